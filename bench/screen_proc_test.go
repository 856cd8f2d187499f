package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// scrClockTick is the unit of utime and stime in /proc/PID/stat: USER_HZ, 100 on every Linux
// architecture Go runs on.
const scrClockTick = 10 * time.Millisecond

// scrCPU returns the CPU time (user + system, all threads) a process has used so far, or 0
// when it is gone.
func scrCPU(pid int) time.Duration {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	// The command name may hold spaces and parentheses: the fields after its last ")" are
	// state (3rd field of the line), ..., utime (14th) and stime (15th).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * scrClockTick
}

// scrFindPID returns the pid of a process whose program is prog and whose command line holds
// arg, or 0: a way to the pid of a process another package started.
func scrFindPID(prog, arg string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
		if filepath.Base(args[0]) == prog && strings.Contains(string(b), arg) {
			return pid
		}
	}
	return 0
}

// scrMachine describes the machine for the report: CPU model, cores, kernel, Go.
func scrMachine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimLeft(name, " \t:"))
				break
			}
		}
	}
	kernel := "unknown kernel"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return model + ", " + strconv.Itoa(runtime.NumCPU()) + " cores, " + kernel + ", " + runtime.Version()
}

// scrLoad returns the machine's load averages over 1, 5 and 15 minutes: other work on the
// same cores skews every measure.
func scrLoad() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// scrMemory samples a server's resident memory; see scrSampleRSS.
type scrMemory struct {
	pid     int
	sampler *sampler
}

// scrSampleRSS samples the resident memory of pid's process tree (as it is now: servers fork
// no viewers' processes once running) every 50 ms until Stop, and restarts pid's VmHWM, which
// catches a peak between two samples.
func scrSampleRSS(pid int) *scrMemory {
	pids := tree(pid)
	resetPeak(pid)
	return &scrMemory{pid: pid, sampler: sample(func() int64 { return scrTreeRSS(pids) })}
}

// Stop ends the sampling and returns the peak.
func (m *scrMemory) Stop() int64 { return max(m.sampler.Stop(), hwm(m.pid)) }

// scrTreeRSS returns the resident memory of the processes pids, summed.
func scrTreeRSS(pids []int) int64 {
	var sum int64
	for _, p := range pids {
		sum += rss(p)
	}
	return sum
}

func scrMiB(b int64) float64 { return float64(b) / (1 << 20) }
