// Package mail delivers the mail in the store's outbox (transcripts,
// offline messages) over SMTP, so that a down SMTP server delays mail but
// loses none and sends none twice. Package transcript renders it.
package mail

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	gomail "github.com/wneessen/go-mail"

	"github.com/parleychat/parley"
)

// Options configure the outbox sender.
type Options struct {
	// Host and Port address the SMTP server (port 587 by default).
	Host string
	Port int
	// Username and Password authenticate when Username is set.
	Username, Password string
	// TLS is starttls (the default: STARTTLS required), opportunistic
	// (STARTTLS when offered), tls (implicit TLS, usually port 465) or
	// none.
	TLS string
	// HELO is the name given in EHLO; "" means the host name.
	HELO string
	// Timeout bounds one SMTP conversation (30 s).
	Timeout time.Duration
	// Poll is how often the outbox looks for due mail (5 s); Wake sends
	// at once.
	Poll time.Duration
	// Backoff is the wait after the first failure (30 s); it doubles with
	// each attempt up to MaxBackoff (1 h).
	Backoff, MaxBackoff time.Duration
	// Lease hides a claimed mail from other senders while it is being
	// sent (2 min); a sender that dies leaves it to be claimed again.
	Lease time.Duration
	// Logger receives delivery failures; nil discards them. Addresses and
	// content are never logged.
	Logger *slog.Logger
	// Registry receives the delivery counters; nil skips them.
	Registry prometheus.Registerer
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.Port == 0 {
		o.Port = 587
	}
	def(&o.Timeout, 30*time.Second)
	def(&o.Poll, 5*time.Second)
	def(&o.Backoff, 30*time.Second)
	def(&o.MaxBackoff, time.Hour)
	def(&o.Lease, 2*time.Minute)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Outbox sends the mails of the store's outbox: it claims due mail, sends
// it and marks it sent, or schedules the next attempt with backoff.
type Outbox struct {
	store    parley.Store
	opt      Options
	wake     chan struct{}
	attempts *prometheus.CounterVec
}

// NewOutbox returns a sender over store. It checks the options but does
// not connect.
func NewOutbox(store parley.Store, opt Options) (*Outbox, error) {
	opt = opt.withDefaults()
	if opt.Host == "" {
		return nil, fmt.Errorf("mail: an SMTP host is required")
	}
	switch opt.TLS {
	case "", "starttls", "opportunistic", "tls", "none":
	default:
		return nil, fmt.Errorf("mail: tls must be starttls, opportunistic, tls or none, not %q", opt.TLS)
	}
	o := &Outbox{store: store, opt: opt, wake: make(chan struct{}, 1),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_mail_attempts_total",
			Help: "SMTP delivery attempts of the mail outbox by result: sent, retry (failed, tried again later) or failed (given up).",
		}, []string{"result"})}
	if opt.Registry != nil {
		if err := opt.Registry.Register(o.attempts); err != nil {
			return nil, fmt.Errorf("mail: register metrics: %w", err)
		}
	}
	return o, nil
}

// Wake makes a running outbox look for due mail now.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Run sends due mail until ctx ends.
func (o *Outbox) Run(ctx context.Context) {
	tick := time.NewTicker(o.opt.Poll)
	defer tick.Stop()
	for {
		if _, err := o.Pass(ctx, time.Now()); err != nil && ctx.Err() == nil {
			o.opt.Logger.Error("mail outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-o.wake:
		}
	}
}

// Pass sends the mails due at now and returns how many were sent. A
// failed delivery is not an error of the pass: the mail is scheduled
// again.
func (o *Outbox) Pass(ctx context.Context, now time.Time) (int, error) {
	sent := 0
	for {
		batch, err := o.store.ClaimMail(ctx, now, o.opt.Lease, 20)
		if err != nil {
			return sent, err
		}
		if len(batch) == 0 {
			return sent, nil
		}
		for _, m := range batch {
			if err := o.send(ctx, m); err != nil {
				final := m.Attempts >= parley.MaxMailAttempts
				if final {
					o.attempts.WithLabelValues("failed").Inc()
				} else {
					o.attempts.WithLabelValues("retry").Inc()
				}
				// The SMTP error can name the recipient: it goes into the
				// outbox record, not the log.
				o.opt.Logger.Warn("mail delivery failed", "mail", m.ID, "attempt", m.Attempts, "final", final)
				if err := o.store.MarkMailFailed(ctx, m.ID, now.Add(o.backoff(m.Attempts)), errorText(err), final); err != nil {
					return sent, err
				}
				continue
			}
			o.attempts.WithLabelValues("sent").Inc()
			if err := o.store.MarkMailSent(ctx, m.ID, time.Now()); err != nil {
				return sent, err
			}
			sent++
		}
	}
}

// backoff is the wait after the attempt-th failure.
func (o *Outbox) backoff(attempt int) time.Duration {
	d := o.opt.Backoff
	for i := 1; i < attempt && d < o.opt.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, o.opt.MaxBackoff)
}

func (o *Outbox) send(ctx context.Context, m *parley.OutboxMail) error {
	msg := gomail.NewMsg()
	if err := msg.From(m.From); err != nil {
		return err
	}
	if err := msg.To(m.To); err != nil {
		return err
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDateWithValue(m.CreatedAt)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	opts := []gomail.Option{gomail.WithPort(o.opt.Port), gomail.WithTimeout(o.opt.Timeout)}
	switch o.opt.TLS {
	case "", "starttls":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case "opportunistic":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case "tls":
		opts = append(opts, gomail.WithSSL())
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if o.opt.HELO != "" {
		opts = append(opts, gomail.WithHELO(o.opt.HELO))
	}
	if o.opt.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(o.opt.Username), gomail.WithPassword(o.opt.Password))
	}
	client, err := gomail.NewClient(o.opt.Host, opts...)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.opt.Timeout)
	defer cancel()
	return client.DialAndSendWithContext(ctx, msg)
}

// errorText shortens an SMTP error for the outbox record.
func errorText(err error) string {
	s := err.Error()
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}
