package conversation

import (
	"strings"
	"testing"

	"github.com/parleychat/parley"
)

// FuzzReadCanned feeds arbitrary files to the import decoders: they return
// responses or an EINVALID/ETOOLARGE error, and never panic.
func FuzzReadCanned(f *testing.F) {
	f.Add("folder,shortcut,title,text\nGreetings,greet,Hello,\"Hi, {visitor.name}\"\n", true)
	f.Add("title,text\n\"unterminated,x\n", true)
	f.Add(`[{"folder": "a", "title": "b", "text": "c"}]`, false)
	f.Add(`{"title": 1}`, false)
	f.Fuzz(func(t *testing.T, data string, csv bool) {
		read := readCannedJSON
		if csv {
			read = readCannedCSV
		}
		rows, err := read(strings.NewReader(data))
		if err != nil {
			if code := parley.ErrorCode(err); code != parley.EINVALID && code != parley.ETOOLARGE {
				t.Fatalf("error %v has code %q", err, code)
			}
			return
		}
		for _, r := range rows {
			_ = r.Validate() // must not panic on any row
		}
	})
}
