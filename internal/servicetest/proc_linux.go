package servicetest

import "syscall"

// sysProcAttr runs a child as cred (when set) and kills it when the test
// process dies, so a crashed test leaves no server behind.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
}
