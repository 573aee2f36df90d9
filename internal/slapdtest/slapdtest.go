// Package slapdtest starts an OpenLDAP server (Debian's slapd) for a
// test: its own configuration and database in a temporary directory,
// listening on a loopback port with StartTLS.
package slapdtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Server is an OpenLDAP server the test started: its own configuration
// and database in a temporary directory, listening on a loopback port
// with StartTLS (a certificate made for the test).
type Server struct {
	URL    string
	Roots  *x509.CertPool
	cmd    *exec.Cmd
	RootDN string
	RootPW string
}

// Suffix is the directory's root entry; the seed starts with it.
const Suffix = "dc=example,dc=org"

// Start starts slapd with the seed entries (LDIF). Without slapd
// installed the test is skipped, except in CI, where it fails.
func Start(t testing.TB, seed string) *Server {
	t.Helper()
	bin, err := exec.LookPath("slapd")
	if err != nil {
		bin = "/usr/sbin/slapd"
	}
	slapadd := filepath.Join(filepath.Dir(bin), "slapadd")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("slapd is not installed (apt-get install slapd); CI needs it: %v", err)
		}
		t.Skip("slapd is not installed (apt-get install slapd); skipping the OpenLDAP tests")
	}
	dir := t.TempDir()
	certFile, keyFile, roots := makeCert(t, dir)
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	s := &Server{Roots: roots, RootDN: "cn=admin," + Suffix, RootPW: "root-secret-1234"}
	conf := fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile %[1]s/slapd.pid
TLSCertificateFile %[2]s
TLSCertificateKeyFile %[3]s
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
database mdb
suffix "%[4]s"
rootdn "%[5]s"
rootpw %[6]s
directory %[1]s/db
`, dir, certFile, keyFile, Suffix, s.RootDN, s.RootPW)
	confFile := filepath.Join(dir, "slapd.conf")
	ldif := filepath.Join(dir, "seed.ldif")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ldif, []byte(seed), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(slapadd, "-f", confFile, "-l", ldif).CombinedOutput(); err != nil {
		t.Fatalf("slapadd: %v\n%s", err, out)
	}
	port := freePort(t)
	s.URL = fmt.Sprintf("ldap://127.0.0.1:%d", port)
	// -d keeps slapd in the foreground, so it is this test's child and
	// ends with it.
	s.cmd = exec.Command(bin, "-f", confFile, "-h", s.URL+"/", "-d", "0")
	var logs strings.Builder
	s.cmd.Stdout, s.cmd.Stderr = &logs, &logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	})
	// Wait for the port with a deadline: slapd opens it when it is ready.
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slapd did not listen within 15 s: %v\n%s", err, logs.String())
		}
		time.Sleep(20 * time.Millisecond) // the poll's interval
	}
	return s
}

// Admin returns a connection bound as the directory's root, to change
// entries during a test.
func (s *Server) Admin(t testing.TB) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.StartTLS(&tls.Config{RootCAs: s.Roots, ServerName: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Bind(s.RootDN, s.RootPW); err != nil {
		t.Fatal(err)
	}
	return c
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// makeCert writes a self-signed certificate for 127.0.0.1 and returns
// its files and a pool that trusts it.
func makeCert(t testing.TB, dir string) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "slapd test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true,

		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}
