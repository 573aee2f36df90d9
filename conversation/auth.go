package conversation

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/parleychat/parley"
)

// argon2id parameters: the OWASP minimum (19 MiB, 2 passes, 1 lane).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

// dummyHash is compared against when a login does not exist, so a wrong
// login costs as much time as a wrong password.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3Yd0I9V4o9+xGp4Ob2cM0a8n1ZqQ2KJ3mF9Q7z7v3oE"

// HashPassword returns the PHC-encoded argon2id hash of password.
func (s *Service) HashPassword(ctx context.Context, password string) (string, error) {
	if err := checkPassword(password); err != nil {
		return "", err
	}
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt)
	release, err := s.acquireHash(ctx)
	if err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	release()
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

func checkPassword(password string) error {
	switch {
	case !utf8.ValidString(password):
		return parley.Errorf(parley.EINVALID, "the password is not valid UTF-8")
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return parley.FieldErrorf("password", "the password needs at least %d characters", MinPasswordLength)
	case len(password) > 1024:
		return parley.FieldErrorf("password", "the password is longer than 1024 bytes")
	}
	return nil
}

// acquireHash bounds concurrent hashing: each one takes 19 MiB.
func (s *Service) acquireHash(ctx context.Context) (func(), error) {
	select {
	case s.hashSem <- struct{}{}:
		return func() { <-s.hashSem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// verifyPassword reports whether password matches the PHC hash.
func (s *Service) verifyPassword(ctx context.Context, phc, password string) (bool, error) {
	var (
		version, memory, passes int
		threads                 uint8
	)
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, fmt.Errorf("conversation: unknown password hash format")
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, fmt.Errorf("conversation: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &passes, &threads); err != nil {
		return false, fmt.Errorf("conversation: bad argon2 parameters: %w", err)
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("conversation: bad argon2 salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return false, fmt.Errorf("conversation: bad argon2 key: %w", err)
	}
	release, err := s.acquireHash(ctx)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, uint32(passes), uint32(memory), threads, uint32(len(want)))
	release()
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// Login checks an agent's password and opens a session. It returns the
// session token, shown once and stored only as a hash.
func (s *Service) Login(ctx context.Context, tenantID int64, login, password string) (string, *parley.Agent, error) {
	if tenantID == 0 {
		tenantID = parley.DefaultTenantID
	}
	denied := parley.Errorf(parley.EUNAUTHORIZED, "wrong login or password")
	if len(login) > 100 || len(password) > 1024 {
		return "", nil, denied
	}
	a, err := s.store.AgentByLogin(ctx, tenantID, login)
	if err != nil && !isCode(err, parley.ENOTFOUND) {
		return "", nil, internal("find agent", err)
	}
	if a != nil && a.DirectoryDN != "" {
		// A directory agent's password is the directory's: it is checked
		// by binding as the agent and never stored.
		if err := s.directoryLogin(ctx, a, password); err != nil {
			return "", nil, err
		}
	} else {
		// An agent without a password (invited, or reset) and a disabled
		// one cost the same time as any other and are refused alike.
		hash := dummyHash
		if a != nil && a.PasswordHash != "" {
			hash = a.PasswordHash
		}
		ok, err := s.verifyPassword(ctx, hash, password)
		if err != nil {
			return "", nil, internal("verify password", err)
		}
		if a == nil || !ok || a.PasswordHash == "" || a.Disabled {
			return "", nil, denied
		}
	}
	token, err := s.openSession(ctx, a)
	if err != nil {
		return "", nil, err
	}
	return token, a, nil
}

// openSession starts a session of the agent and returns its token.
func (s *Service) openSession(ctx context.Context, a *parley.Agent) (string, error) {
	token := agentTokenPrefix + newToken()
	now := s.now().UTC()
	sess := &parley.Session{TokenHash: hashToken(token), AgentID: a.ID, TenantID: a.TenantID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return "", internal("create session", err)
	}
	return token, nil
}

// Logout ends the session of token. The agent goes offline and not
// ready, so that signing in again makes it present but not ready.
func (s *Service) Logout(ctx context.Context, token string) error {
	actor, err := s.Authenticate(ctx, token)
	if err != nil {
		return err
	}
	if actor.Agent == nil {
		return parley.Errorf(parley.EFORBIDDEN, "visitors do not log out; they leave their chat")
	}
	if err := s.store.DeleteSession(ctx, hashToken(token)); err != nil {
		return internal("delete session", err)
	}
	_, err = s.SetPresence(ctx, actor, PresenceChange{Presence: parley.PresenceOffline, Status: parley.StatusNotReady})
	return err
}

// Authenticate returns the actor a token belongs to: a visitor or an agent
// with a live session.
func (s *Service) Authenticate(ctx context.Context, token string) (Actor, error) {
	denied := parley.Errorf(parley.EUNAUTHORIZED, "missing, unknown or expired token")
	if len(token) > 100 {
		return Actor{}, denied
	}
	switch {
	case strings.HasPrefix(token, visitorTokenPrefix):
		v, err := s.store.VisitorByToken(ctx, hashToken(token))
		if isCode(err, parley.ENOTFOUND) {
			return Actor{}, denied
		} else if err != nil {
			return Actor{}, internal("find visitor", err)
		}
		return Actor{Kind: parley.PartyVisitor, TenantID: v.TenantID, VisitorID: v.ID}, nil
	case strings.HasPrefix(token, agentTokenPrefix):
		sess, err := s.store.Session(ctx, hashToken(token))
		if isCode(err, parley.ENOTFOUND) {
			return Actor{}, denied
		} else if err != nil {
			return Actor{}, internal("find session", err)
		}
		if !s.now().Before(sess.ExpiresAt) {
			return Actor{}, denied
		}
		a, err := s.store.Agent(ctx, sess.AgentID)
		if isCode(err, parley.ENOTFOUND) || (err == nil && a.Disabled) {
			return Actor{}, denied
		} else if err != nil {
			return Actor{}, internal("load agent", err)
		}
		return Actor{Kind: parley.PartyAgent, TenantID: a.TenantID, Agent: a}, nil
	}
	return Actor{}, denied
}

// ChangePassword sets a new password for the calling agent after checking
// the current one, and ends the agent's other sessions (keep is the token
// of the session making the change, which stays).
func (s *Service) ChangePassword(ctx context.Context, actor Actor, keep, current, next string) error {
	if actor.Agent == nil {
		return parley.Errorf(parley.EFORBIDDEN, "only agents have passwords")
	}
	a, err := s.store.Agent(ctx, actor.Agent.ID)
	if err != nil {
		return internal("load agent", err)
	}
	if a.DirectoryDN != "" {
		return parley.Errorf(parley.EFORBIDDEN, "your password is the company directory's; change it there")
	}
	ok, err := s.verifyPassword(ctx, a.PasswordHash, current)
	if err != nil {
		return internal("verify password", err)
	}
	if !ok {
		return parley.Errorf(parley.EUNAUTHORIZED, "the current password is wrong")
	}
	if a.PasswordHash, err = s.HashPassword(ctx, next); err != nil {
		return err
	}
	if err := s.store.UpdateAgent(ctx, a); err != nil {
		return internal("update agent", err)
	}
	if _, err := s.store.DeleteAgentSessions(ctx, a.ID, hashToken(keep)); err != nil {
		return internal("end other sessions", err)
	}
	return nil
}
