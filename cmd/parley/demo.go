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
				// Not ready until the agent says so, as the console's
				// "Go ready" expects.
				Presence: parley.PresenceOffline, Status: parley.StatusNotReady, Groups: []parley.Membership{},
			}
			for _, g := range groups {
				a.Groups = append(a.Groups, parley.Membership{GroupID: g})
			}
			return a
		}
		admin := agent("admin", "Administrator")
		admin.Role = parley.RoleAdmin
		supervisor := agent("supervisor", "Sam", 1, 2)
		supervisor.Role = parley.RoleSupervisor
		agents := []*parley.Agent{agent("agent1", "Alice", 1, 2), agent("agent2", "Bob", 1), admin, supervisor}
		if err := svc.Seed(ctx, groups, agents, password); err != nil {
			return fmt.Errorf("demo seed: %w", err)
		}
		if err := seedDemoCanned(ctx, store); err != nil {
			return fmt.Errorf("demo seed: %w", err)
		}
	} else if err != nil {
		return err
	} else {
		for _, login := range []string{"agent1", "agent2", "admin", "supervisor"} {
			a, err := store.AgentByLogin(ctx, parley.DefaultTenantID, login)
			if parley.ErrorCode(err) == parley.ENOTFOUND {
				continue
			} else if err != nil {
				return err
			}
			if a.PasswordHash, err = svc.HashPassword(ctx, password); err != nil {
				return err
			}
			if a.Presence == parley.PresenceOffline {
				// Demo data from before agents started not ready.
				a.Status, a.StatusReason = parley.StatusNotReady, ""
			}
			if err := store.UpdateAgent(ctx, a); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(stdout, "Demo: groups Support (1) and Sales (2); agents agent1 (Support, Sales), agent2 (Support) and admin.\n")
	fmt.Fprintf(stdout, "Demo password for agent1, agent2 and admin: %s\n", password)
	fmt.Fprintf(stdout, "The supervisor account supervisor (Support, Sales) has the same password.\n")
	fmt.Fprintf(stdout, "Open /agent/ to answer as an agent and / to chat as a visitor.\n")
	return nil
}

// seedDemoCanned gives the demo groups a few canned responses.
func seedDemoCanned(ctx context.Context, store parley.Store) error {
	for _, c := range []*parley.CannedResponse{
		{Folder: "Greetings", Shortcut: "greet", Title: "Hello", Text: "Hello {visitor.name}, I am {agent.name}. How can I help you today?"},
		{Folder: "Greetings", Shortcut: "wait", Title: "One moment", Text: "Thank you, {visitor.name}. One moment please, I am checking that for you."},
		{Folder: "Closing", Shortcut: "bye", Title: "Goodbye", Text: "Thank you for contacting {group.name}, {visitor.name}. Have a nice day!"},
		{GroupID: 1, Folder: "Support/Orders", Shortcut: "order", Title: "Order number", Text: "Could you tell me your order number, please?"},
		{GroupID: 1, Folder: "Support/Orders", Shortcut: "shipping", Title: "Shipping time", Text: "Orders ship within 2 working days; you get a tracking link by email."},
		{GroupID: 2, Folder: "Sales", Shortcut: "trial", Title: "Free trial", Text: "You can try every plan free for 30 days, no card needed."},
	} {
		c.TenantID = parley.DefaultTenantID
		if err := store.CreateCanned(ctx, c); err != nil {
			return err
		}
	}
	return nil
}
