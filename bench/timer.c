/*
 * timer - run a command several times and report its wall-clock time and
 * peak memory.  Part of the benchmark suite (bench/run.sh); built natively.
 *
 *   timer [-n RUNS] [-o OUT] [-e ERR] [-t SECONDS] CMD [ARGS...]
 *
 * Runs CMD RUNS times (default 1), one after the other, with its standard
 * output written to OUT and its standard error to ERR (both truncated at
 * each run; default /dev/null for OUT, inherited for ERR).  Each run is
 * timed from just before the process is spawned to just after it has been
 * reaped (CLOCK_MONOTONIC), so process start-up and teardown are included.
 * A run still going after SECONDS (default: no limit) is killed.
 *
 * On success prints one line: "BEST_NS MEAN_NS MAXRSS_KIB", where MAXRSS is
 * the largest peak resident set size of any run (ru_maxrss from wait4, the
 * figure GNU time reports as "Maximum resident set size").  If any run exits
 * non-zero, is killed by a signal or times out, says so on stderr and exits 1.
 *
 * The child is made with fork(), as GNU time does, not posix_spawn(): glibc's
 * posix_spawn shares the parent's address space until exec, and the kernel
 * would then count this program's own pages in the child's ru_maxrss.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
    (void)sig;
    timed_out = 1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* In the child: make fd refer to a fresh (truncated) file at path. */
static int redirect(int fd, const char *path)
{
    int f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (f < 0) {
        fprintf(stderr, "timer: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (f != fd) {
        dup2(f, fd);
        close(f);
    }
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: timer [-n RUNS] [-o OUT] [-e ERR] [-t SECONDS] CMD [ARGS...]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    long runs = 1;
    unsigned timeout = 0;
    const char *out = "/dev/null", *err = NULL;
    int opt;

    while ((opt = getopt(argc, argv, "+n:o:e:t:")) != -1) {
        switch (opt) {
        case 'n': runs = strtol(optarg, NULL, 10); break;
        case 'o': out = optarg; break;
        case 'e': err = optarg; break;
        case 't': timeout = (unsigned)strtoul(optarg, NULL, 10); break;
        default: usage();
        }
    }
    if (optind >= argc || runs < 1)
        usage();
    char **cmd = argv + optind;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;    /* no SA_RESTART: wait4 returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);

    uint64_t best = UINT64_MAX, total = 0;
    long maxrss = 0;
    for (long r = 0; r < runs; r++) {
        fflush(NULL);
        uint64_t t0 = now_ns();
        pid_t pid = fork();
        if (pid < 0) {
            perror("timer: fork");
            return 1;
        }
        if (pid == 0) {
            if (redirect(STDOUT_FILENO, out) != 0 || (err && redirect(STDERR_FILENO, err) != 0))
                _exit(126);
            execvp(cmd[0], cmd);
            fprintf(stderr, "timer: cannot run %s: %s\n", cmd[0], strerror(errno));
            _exit(127);
        }
        timed_out = 0;
        alarm(timeout);

        int status;
        struct rusage ru;
        pid_t w;
        while ((w = wait4(pid, &status, 0, &ru)) < 0 && errno == EINTR) {
            if (timed_out)
                kill(pid, SIGKILL);
        }
        uint64_t t = now_ns() - t0;
        alarm(0);
        if (w < 0) {
            perror("timer: wait4");
            return 1;
        }
        if (timed_out) {
            fprintf(stderr, "timer: %s: killed after %u s\n", cmd[0], timeout);
            return 1;
        }
        if (WIFSIGNALED(status)) {
            fprintf(stderr, "timer: %s: killed by signal %d (%s)\n", cmd[0], WTERMSIG(status),
                    strsignal(WTERMSIG(status)));
            return 1;
        }
        if (WEXITSTATUS(status) != 0) {
            fprintf(stderr, "timer: %s: exit status %d\n", cmd[0], WEXITSTATUS(status));
            return 1;
        }
        if (t < best)
            best = t;
        total += t;
        if (ru.ru_maxrss > maxrss)
            maxrss = ru.ru_maxrss;
    }
    printf("%llu %llu %ld\n", (unsigned long long)best, (unsigned long long)(total / (uint64_t)runs),
           maxrss);
    return 0;
}
