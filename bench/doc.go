// Package bench holds buktu's benchmarks against the tools people already use. BenchmarkFiles
// runs the file services side by side with OpenSSH on loopback: the built buktu binary as a
// host against an sshd started for the run with a throwaway configuration, moving the same
// data sets with `buktu send`/`buktu get` and with scp, sftp and rsync. It reports speedups,
// the host's memory, and writes the table to results/files.md; `make bench` runs it. Every
// server keeps its files under TMPDIR: `TMPDIR=/dev/shm make bench` measures without the disk.
//
// BenchmarkScreen runs the screen services side by side with x11vnc and TigerVNC's
// x0vncserver on one shared 1920x1080 Xvfb: a full-screen video, scrolling text and a moving
// square drawn at 30 frames/s (and 60 for one viewer) by a process of its own, 1, 10 and 50
// viewers of buktu's own client that decode everything, each server's peak memory, idle CPU
// and click-to-pixel latency; every row is checked against the X server's pixels, and the
// report checks issue 4's targets. It writes results/screen.md. BenchmarkScreenSoak watches
// buktu's memory with 50 viewers of the video for 10 minutes and writes
// results/screen-soak.md.
//
// It owns no product code: what it measures lives in internal/…, and it drives the binary
// the way a person would. Starting the buktu host is internal/testenv's job.
package bench
