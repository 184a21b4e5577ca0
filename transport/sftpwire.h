/*
 * sftpwire.h: SFTP version 3 (draft-ietf-secsh-filexfer-02) on the wire:
 * the constants, and the parsing of what a server sends, which is
 * untrusted.  Every function reads only within the bytes it is given.
 * No libssh2 here (tests/fuzz/fuzz_sftp.c fuzzes it alone).
 */
#ifndef PEMROTATE_SFTPWIRE_H
#define PEMROTATE_SFTPWIRE_H

#include <stddef.h>
#include <stdint.h>


enum {
	FXP_INIT = 1, FXP_VERSION = 2, FXP_OPEN = 3, FXP_CLOSE = 4,
	FXP_READ = 5, FXP_WRITE = 6, FXP_LSTAT = 7, FXP_FSTAT = 8,
	FXP_FSETSTAT = 10, FXP_OPENDIR = 11, FXP_READDIR = 12, FXP_REMOVE = 13, FXP_MKDIR = 14, FXP_RMDIR = 15,
	FXP_REALPATH = 16, FXP_STAT = 17, FXP_RENAME = 18, FXP_READLINK = 19,
	FXP_STATUS = 101, FXP_HANDLE = 102, FXP_DATA = 103, FXP_NAME = 104,
	FXP_ATTRS = 105, FXP_EXTENDED = 200,
};
/* OpenSSH's extensions a server may offer (in its VERSION packet). */
enum {
	SFTPW_EXT_FSYNC = 0x01,		/* fsync@openssh.com */
	SFTPW_EXT_POSIX_RENAME = 0x02,	/* posix-rename@openssh.com */
	SFTPW_EXT_HARDLINK = 0x04,	/* hardlink@openssh.com */
};
enum {
	FXF_READ = 0x01, FXF_WRITE = 0x02, FXF_CREAT = 0x08, FXF_EXCL = 0x20,
};
enum {
	ATTR_SIZE = 0x01, ATTR_UIDGID = 0x02, ATTR_PERMISSIONS = 0x04,
	ATTR_ACMODTIME = 0x08, ATTR_EXTENDED = 0x80000000u,
};
enum {
	FX_OK = 0, FX_EOF = 1, FX_NO_SUCH_FILE = 2, FX_PERMISSION_DENIED = 3,
	FX_FAILURE = 4,
};

/*
 * A file's attributes as an ATTRS reply gives them: the type of
 * transport/sftp.h's stat functions, defined here, at the bottom, so the
 * parser fills it.
 */
struct sftp_stat {
	unsigned long uid, gid;
	unsigned long mode;	/* permission bits and file type */
	unsigned long long size;
	int is_dir, is_reg, is_lnk;
	int owner_known;	/* uid, gid and mode were all given */
	unsigned long long mtime;	/* seconds since 1970 (ACMODTIME) */
	int mtime_known;	/* the server gave it */
};

#define SFTP_MAX_PACKET	(256 * 1024)	/* a reply larger is an error */
#define SFTP_MAX_HANDLE	256		/* the protocol's own bound */

/* Big-endian uint32 at p (4 bytes must be there). */
uint32_t sftpw_u32(const unsigned char *p);

/*
 * A string at *p of *n bytes left: 0 with *s, *len set and *p, *n moved
 * past it, or -1 if it does not fit.
 */
int sftpw_str(const unsigned char **p, size_t *n, const unsigned char **s,
    size_t *len);

/*
 * The packet at the start of buf (len bytes read so far): 1 and its body
 * length (type onwards, 5 to SFTP_MAX_PACKET bytes) in *plen when it is
 * whole, 0 when more must be read, -1 when its length is impossible.
 */
int sftpw_packet(const unsigned char *buf, size_t len, size_t *plen);

/*
 * Replies below are given as their type and what follows the type (the
 * request id, then the payload): d, len.
 */

/* A STATUS reply's code; FX_FAILURE if cut short; -1 if not a STATUS. */
long sftpw_status(int type, const unsigned char *d, size_t len);

/* 0 if a HANDLE reply is an id and exactly one string of at most
 * SFTP_MAX_HANDLE bytes (then *h, *hl), else -1. */
int sftpw_handle(int type, const unsigned char *d, size_t len,
    const unsigned char **h, size_t *hl);

/* 0 if a DATA reply carries at most ask bytes (then *data, *dl), else -1. */
int sftpw_data(int type, const unsigned char *d, size_t len, size_t ask,
    const unsigned char **data, size_t *dl);

/* 0 if an ATTRS reply is whole for the fields its flags announce (then
 * *st; size, owner and mode as given, 0 when absent), else -1. */
int sftpw_attrs(int type, const unsigned char *d, size_t len,
    struct sftp_stat *st);

/*
 * A VERSION packet body (type onwards): 0 with the server's version and
 * the SFTPW_EXT_* extensions it offers in *ext, -1 if it is not one.
 */
int sftpw_version(const unsigned char *body, size_t plen, uint32_t *version,
    unsigned *ext);

/*
 * A NAME reply with exactly one name (READLINK, REALPATH): 0 with the
 * name in *name, *nl (not terminated), else -1.
 */
int sftpw_name1(int type, const unsigned char *d, size_t len,
    const unsigned char **name, size_t *nl);

/*
 * A NAME reply (READDIR): sftpw_names checks its header and gives the
 * count of names it announces and a cursor at the first; sftpw_name_next
 * reads one name (name, long form, attributes) and moves the cursor.
 * Each 0, or -1 when the bytes do not hold what they announce.
 */
struct sftpw_cursor {
	const unsigned char *p;
	size_t n;
};
struct sftpw_name {
	const unsigned char *name, *longname;	/* not terminated */
	size_t nl, ll;
	struct sftp_stat st;
};
int sftpw_names(int type, const unsigned char *d, size_t len,
    uint32_t *count, struct sftpw_cursor *cur);
int sftpw_name_next(struct sftpw_cursor *cur, struct sftpw_name *e);

/*
 * The link count in an "ls -l" long form as OpenSSH's sftp-server gives
 * it ("-rw------- 1 user group ..."): the second field, or -1 when it is
 * not a number there.
 */
long sftpw_longname_nlink(const unsigned char *ln, size_t n);

#endif
