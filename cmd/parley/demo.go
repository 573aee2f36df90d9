package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// seedDemo creates the demo groups and agents on first start. Every start
// gives the demo accounts a fresh password and prints it.
func seedDemo(ctx context.Context, store parley.Store, svc *conversation.Service, stdout io.Writer) error {
	password := rand.Text()[:16]
	if _, err := store.Group(ctx, 1); parley.ErrorCode(err) == parley.ENOTFOUND {
		groups := []*parley.Group{
			{ID: 1, TenantID: parley.DefaultTenantID, Name: "Support",
				WelcomeMessage: "Hello! How can we help you today?",
				QueueMessage:   "Thanks for reaching out. An agent will be with you shortly.",
				ClosedMessage:  "Our support team is offline right now. Please try again later."},
			{ID: 2, TenantID: parley.DefaultTenantID, Name: "Sales",
				WelcomeMessage: "Hi, thanks for your interest! What would you like to know?",
				QueueMessage:   "Thanks! A sales agent will be with you shortly.",
				ClosedMessage:  "Our sales team is offline right now. Please try again later."},
		}
		agent := func(login, name string, groups ...int64) *parley.Agent {
			a := &parley.Agent{
				TenantID: parley.DefaultTenantID, Login: login, DisplayName: name, ChatName: name,
				Role: parley.RoleAgent, Capacity: parley.DefaultCapacity,
				Presence: parley.PresenceOffline, Status: parley.StatusReady, Groups: []parley.Membership{},
			}
			for _, g := range groups {
				a.Groups = append(a.Groups, parley.Membership{GroupID: g})
			}
			return a
		}
		admin := agent("admin", "Administrator")
		admin.Role = parley.RoleAdmin
		agents := []*parley.Agent{agent("agent1", "Alice", 1, 2), agent("agent2", "Bob", 1), admin}
		if err := svc.Seed(ctx, groups, agents, password); err != nil {
			return fmt.Errorf("demo seed: %w", err)
		}
	} else if err != nil {
		return err
	} else {
		for _, login := range []string{"agent1", "agent2", "admin"} {
			a, err := store.AgentByLogin(ctx, parley.DefaultTenantID, login)
			if parley.ErrorCode(err) == parley.ENOTFOUND {
				continue
			} else if err != nil {
				return err
			}
			if a.PasswordHash, err = svc.HashPassword(ctx, password); err != nil {
				return err
			}
			if err := store.UpdateAgent(ctx, a); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(stdout, "Demo: groups Support (1) and Sales (2); agents agent1 (Support, Sales), agent2 (Support) and admin.\n")
	fmt.Fprintf(stdout, "Demo password for agent1, agent2 and admin: %s\n", password)
	fmt.Fprintf(stdout, "Open /demo/agent to answer as an agent and / to chat as a visitor.\n")
	return nil
}
