package rocketchat_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// nodeDir is the test-only npm folder (package.json + package-lock.json;
// .ci/run installs it with npm ci).
const nodeDir = "testdata/node"

// needNode skips a test when node or the npm packages are missing, except
// in CI, where they must be there.
func needNode(t *testing.T, pkg string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(nodeDir, "node_modules", pkg, "package.json"))
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node and %s are required in CI (npm ci in %s): %v", pkg, nodeDir, err)
		}
		t.Skipf("skipped: node or the npm packages are missing; run `npm ci` in rocketchat/%s (%v)", nodeDir, err)
	}
	return node
}

// A third-party DDP client (simpleddp, with ws) runs the legacy method
// flow, the streams, the refusals and a reconnect in the middle of a
// 50-message burst against the real stack (testdata/node/ddp_client.js).
func TestNodeDDPClient(t *testing.T) {
	node := needNode(t, "simpleddp")
	s := start(t)
	agentTok := s.online()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "ddp_client.js")
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(), "PARLEY_URL="+s.URL, "AGENT_TOKEN="+agentTok)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node ddp_client.js: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
