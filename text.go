package parley

import "strings"

// UnsafeRune reports whether r may not appear in text Parley stores and
// shows to people: control characters (NUL, escapes, C1) and the
// bidirectional embedding, override and isolate controls (U+202A–U+202E,
// U+2066–U+2069), which make text display in another order than it is
// stored. Line breaks and tabs count as unsafe only when multiline is
// false. The left-to-right and right-to-left marks (U+200E, U+200F) stay
// allowed: they change no order beyond their neighbours and right-to-left
// keyboards type them.
func UnsafeRune(r rune, multiline bool) bool {
	switch {
	case r == '\n' || r == '\r' || r == '\t':
		return !multiline
	case r < 0x20 || (r >= 0x7f && r <= 0x9f):
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// CheckChars returns an EINVALID error naming field when s holds a
// character UnsafeRune refuses. Such text is refused, never silently
// changed, so what is stored is what the sender sent.
func CheckChars(field, s string, multiline bool) error {
	if strings.IndexFunc(s, func(r rune) bool { return UnsafeRune(r, multiline) }) >= 0 {
		return FieldErrorf(field, "%s contains control or bidirectional override characters", field)
	}
	return nil
}
