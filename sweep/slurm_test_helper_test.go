package sweep

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// startSlurm installs (if needed) and starts munged, slurmctld and slurmd
// (Debian 12's slurm-wlm, one node, no systemd: munge key and directories,
// a slurm.conf from `slurmd -C`, daemons as root), stopping them by pid
// file in t.Cleanup.
func startSlurm(t *testing.T) {
	if _, err := exec.LookPath("slurmctld"); err != nil {
		sh(t, "apt-get", "update")
		sh(t, "apt-get", "install", "-y", "--no-install-recommends", "slurmctld", "slurmd", "slurm-client", "munge")
	}
	for _, d := range []string{"/etc/munge", "/var/log/munge", "/var/lib/munge", "/run/munge"} {
		os.MkdirAll(d, 0o700)
		sh(t, "chown", "munge:munge", d)
	}
	os.Chmod("/run/munge", 0o755) // munged wants its socket directory searchable by all
	if _, err := os.Stat("/etc/munge/munge.key"); err != nil {
		sh(t, "runuser", "-u", "munge", "--", "mungekey", "--create", "--keyfile=/etc/munge/munge.key")
	}
	for _, d := range []string{"/var/spool/slurmctld", "/var/spool/slurmd", "/var/log/slurm", "/etc/slurm"} {
		os.MkdirAll(d, 0o755)
	}
	host := strings.TrimSpace(sh(t, "hostname", "-s"))
	node := strings.TrimSpace(strings.Split(sh(t, "slurmd", "-C"), "\n")[0])
	// Run more tasks than cores: scheduling only (no cgroups here).
	fields := strings.Fields(node)
	for i, f := range fields {
		if strings.HasPrefix(f, "CPUs=") {
			fields[i] = "CPUs=8"
		}
		if strings.HasPrefix(f, "Boards=") || strings.HasPrefix(f, "SocketsPerBoard=") || strings.HasPrefix(f, "CoresPerSocket=") || strings.HasPrefix(f, "ThreadsPerCore=") {
			fields[i] = ""
		}
	}
	conf := `ClusterName=ci
SlurmctldHost=` + host + `(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
ReturnToService=2
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.log
MinJobAge=3600
InactiveLimit=0
KillWait=5
Waittime=0
MailProg=/bin/true
` + strings.Join(strings.Fields(strings.Join(fields, " ")), " ") + ` NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
`
	if err := os.WriteFile("/etc/slurm/slurm.conf", []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	started := exec.Command("pgrep", "-x", "slurmctld").Run() == nil
	if !started {
		if exec.Command("pgrep", "-x", "munged").Run() != nil {
			sh(t, "runuser", "-u", "munge", "--", "munged")
		}
		sh(t, "slurmctld")
		sh(t, "slurmd")
		t.Cleanup(func() {
			exec.Command("scancel", "--user=root").Run()
			for _, pf := range []string{"/run/slurmd.pid", "/run/slurmctld.pid"} {
				if b, err := os.ReadFile(pf); err == nil {
					if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
						syscall.Kill(pid, syscall.SIGTERM)
					}
				}
			}
			// Wait for the daemons to exit: a test started right after
			// would otherwise find a dying slurmctld, skip starting its
			// own, and lose the controller mid-test.
			for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
				if exec.Command("pgrep", "-x", "slurmctld").Run() != nil && exec.Command("pgrep", "-x", "slurmd").Run() != nil {
					break
				}
			}
		})
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := exec.Command("sinfo", "-h", "-o", "%t").CombinedOutput()
		if bytes.Contains(out, []byte("idle")) || bytes.Contains(out, []byte("mix")) {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join("/var/log/slurm", "slurmctld.log"))
			t.Fatalf("SLURM node not idle after 30s: sinfo %q\n%s", out, log)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
