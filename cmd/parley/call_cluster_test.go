package main

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/pion/turn/v4"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
)

// freeUDPPort returns a UDP port of 127.0.0.1 that nothing listens on now.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// turnAllocate asks the TURN server at addr for a relay with the
// credentials of server and closes it again; it returns the refusal.
func turnAllocate(t *testing.T, addr string, server conversation.ICEServer) error {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: addr, TURNServerAddr: addr, Username: server.Username, Password: server.Credential,
		Realm: "parley", Conn: conn, RTO: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := c.Allocate()
	if err != nil {
		return err
	}
	return relay.Close()
}

// TestClusterCallTURN: two nodes, each with the built-in TURN server and
// one shared secret. Credentials node A issues for a call opened on A are
// accepted by B's TURN server, although B had answered for the chat
// before the call existed; once the call is hung up on A, B refuses them;
// a second call opened on A is accepted by B at once.
func TestClusterCallTURN(t *testing.T) {
	c := newTestCluster(t)
	const secret = "cluster-call-secret"
	turnArgs := func(port int, relays string) []string {
		return []string{"--turn", "--turn-public-ip=127.0.0.1", fmt.Sprintf("--turn-udp=127.0.0.1:%d", port), "--turn-tcp=",
			"--turn-secret=" + secret, "--turn-relay-ports=" + relays}
	}
	a := c.node(turnArgs(freeUDPPort(t), "43100-43199")...)
	portB := freeUDPPort(t)
	b := c.node(turnArgs(portB, "43200-43299")...)
	a.password = b.password // the last node to seed the demo set it
	turnB := fmt.Sprintf("127.0.0.1:%d", portB)
	eventually(t, 15*time.Second, "one leader and one follower", func() bool {
		ra, rb := a.role(), b.role()
		return (ra == "leader" && rb == "follower") || (ra == "follower" && rb == "leader")
	})

	agent := b.login("agent1")
	b.must(200, "PUT", "/api/v1/me/presence", agent, map[string]string{"presence": "available", "status": "ready"}, nil)
	var chat httpapi.ChatStartedBody
	eventually(t, 10*time.Second, "the group open on A", func() bool {
		return a.call("POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": "Vera"}, &chat) == 201
	})
	id, visitor := chat.Chat.ID, chat.VisitorToken
	eventually(t, 10*time.Second, "the chat offered on B", func() bool { return chatOn(b, id, agent).OfferedTo != 0 })
	b.must(200, "POST", "/api/v1/chats/"+id+"/accept", agent, nil, nil)
	eventually(t, 5*time.Second, "A serving the state B stored", func() bool {
		return chatOn(a, id, visitor).State == parley.StateHandling
	})

	// B answers for the chat while no call is open, and so knows it.
	b.must(404, "GET", "/api/v1/chats/"+id+"/calls/none/ice", visitor, nil, nil)

	invite := func() (string, conversation.ICEServer) {
		t.Helper()
		var e parley.Event
		a.must(201, "POST", "/api/v1/chats/"+id+"/signal", visitor, map[string]string{"action": "invite", "media": "audio"}, &e)
		sig, ok := e.CallOf()
		if !ok || sig.Call == "" {
			t.Fatalf("invite answered %+v", e)
		}
		var ice conversation.ICE
		a.must(200, "GET", "/api/v1/chats/"+id+"/calls/"+sig.Call+"/ice", visitor, nil, &ice)
		for _, s := range ice.Servers {
			if s.Username != "" {
				return sig.Call, s
			}
		}
		t.Fatalf("A issued no TURN credentials: %+v", ice)
		return "", conversation.ICEServer{}
	}

	call1, cred1 := invite()
	if err := turnAllocate(t, turnB, cred1); err != nil {
		t.Fatalf("B's TURN server refused A's credentials of the open call: %v", err)
	}
	a.must(201, "POST", "/api/v1/chats/"+id+"/signal", visitor, map[string]string{"action": "hangup", "call": call1}, nil)
	eventually(t, 10*time.Second, "B refusing the ended call's credentials", func() bool {
		return turnAllocate(t, turnB, cred1) != nil
	})

	_, cred2 := invite()
	if err := turnAllocate(t, turnB, cred2); err != nil {
		t.Fatalf("B's TURN server refused the second call's credentials: %v", err)
	}
	a.stop()
	b.stop()
}
