/*
 * sftpwire.c: parsing SFTP version 3 replies, which come from the remote
 * host and are untrusted: every length is checked against the bytes
 * actually there before anything is read.
 */
#include "transport/sftpwire.h"

#include <string.h>

uint32_t
sftpw_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

int
sftpw_str(const unsigned char **p, size_t *n, const unsigned char **s,
    size_t *len)
{
	uint32_t l;

	if (*n < 4 || (l = sftpw_u32(*p)) > *n - 4)
		return -1;
	*s = *p + 4;
	*len = l;
	*p += 4 + (size_t)l;
	*n -= 4 + (size_t)l;
	return 0;
}

int
sftpw_packet(const unsigned char *buf, size_t len, size_t *plen)
{
	uint32_t l;

	if (len < 4)
		return 0;
	l = sftpw_u32(buf);
	if (l < 5 || l > SFTP_MAX_PACKET)
		return -1;
	if (len - 4 < (size_t)l)
		return 0;
	*plen = l;
	return 1;
}

long
sftpw_status(int type, const unsigned char *d, size_t len)
{
	if (type != FXP_STATUS)
		return -1;
	if (len < 8)
		return FX_FAILURE;
	return (long)sftpw_u32(d + 4);
}

/*
 * A reply of type want that is its id and one string: 0 with the string
 * (*s, *sl) and the bytes after it (*rest), else -1.
 */
static int
id_and_string(int type, int want, const unsigned char *d, size_t len,
    const unsigned char **s, size_t *sl, size_t *rest)
{
	const unsigned char *p = d + 4;

	if (type != want || len < 4)
		return -1;
	*rest = len - 4;
	return sftpw_str(&p, rest, s, sl);
}

int
sftpw_handle(int type, const unsigned char *d, size_t len,
    const unsigned char **h, size_t *hl)
{
	size_t rest;

	if (id_and_string(type, FXP_HANDLE, d, len, h, hl, &rest) != 0 ||
	    rest != 0 || *hl > SFTP_MAX_HANDLE)
		return -1;
	return 0;
}

int
sftpw_data(int type, const unsigned char *d, size_t len, size_t ask,
    const unsigned char **data, size_t *dl)
{
	size_t rest;

	if (id_and_string(type, FXP_DATA, d, len, data, dl, &rest) != 0 ||
	    *dl > ask)
		return -1;
	return 0;
}

/* Read n bytes at *p of *left into out (big-endian), moving on. */
static int
take(const unsigned char **p, size_t *left, size_t n, uint32_t *out)
{
	if (*left < n)
		return -1;
	out[0] = sftpw_u32(*p);
	if (n == 8)
		out[1] = sftpw_u32(*p + 4);
	*p += n;
	*left -= n;
	return 0;
}

/* ATTRS at *p of *left bytes into st, moving past them; 0 or -1. */
static int
parse_attrs(const unsigned char **p, size_t *left, struct sftp_stat *st)
{
	const unsigned char *s;
	uint32_t fl, v[2], i, next;
	size_t sl;

	memset(st, 0, sizeof(*st));
	if (take(p, left, 4, &fl) != 0)
		return -1;
	if ((fl & ATTR_SIZE) && take(p, left, 8, v) == 0)
		st->size = (unsigned long long)v[0] << 32 | v[1];
	else if (fl & ATTR_SIZE)
		return -1;
	if (fl & ATTR_UIDGID) {
		if (take(p, left, 8, v) != 0)
			return -1;
		st->uid = v[0];
		st->gid = v[1];
	}
	if (fl & ATTR_PERMISSIONS) {
		if (take(p, left, 4, v) != 0)
			return -1;
		st->mode = v[0];
	}
	if (fl & ATTR_ACMODTIME) {
		if (take(p, left, 8, v) != 0)	/* atime, mtime */
			return -1;
		st->mtime = v[1];
		st->mtime_known = 1;
	}
	if (fl & ATTR_EXTENDED) {
		if (take(p, left, 4, &next) != 0)
			return -1;
		for (i = 0; i < next; i++)
			if (sftpw_str(p, left, &s, &sl) != 0 ||
			    sftpw_str(p, left, &s, &sl) != 0)
				return -1;
	}
	st->is_dir = (st->mode & 0170000) == 0040000;
	st->is_reg = (st->mode & 0170000) == 0100000;
	st->is_lnk = (st->mode & 0170000) == 0120000;
	st->owner_known = (fl & ATTR_UIDGID) && (fl & ATTR_PERMISSIONS);
	return 0;
}

int
sftpw_attrs(int type, const unsigned char *d, size_t len,
    struct sftp_stat *st)
{
	const unsigned char *p = d + 4;
	size_t n;

	memset(st, 0, sizeof(*st));
	if (type != FXP_ATTRS || len < 8)
		return -1;
	n = len - 4;
	if (parse_attrs(&p, &n, st) != 0) {
		memset(st, 0, sizeof(*st));
		return -1;
	}
	return 0;
}

int
sftpw_version(const unsigned char *body, size_t plen, uint32_t *version,
    unsigned *ext)
{
	static const struct {
		const char *name;
		unsigned bit;
	} known[] = {
		{ "fsync@openssh.com", SFTPW_EXT_FSYNC },
		{ "posix-rename@openssh.com", SFTPW_EXT_POSIX_RENAME },
		{ "hardlink@openssh.com", SFTPW_EXT_HARDLINK },
	};
	const unsigned char *p, *name, *val;
	size_t n, nl, vl, i;

	if (plen < 5 || body[0] != FXP_VERSION)
		return -1;
	*version = sftpw_u32(body + 1);
	*ext = 0;
	p = body + 5;
	n = plen - 5;
	while (sftpw_str(&p, &n, &name, &nl) == 0 &&
	    sftpw_str(&p, &n, &val, &vl) == 0) {
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (nl == strlen(known[i].name) &&
			    memcmp(name, known[i].name, nl) == 0)
				*ext |= known[i].bit;
	}
	return 0;
}

int
sftpw_name1(int type, const unsigned char *d, size_t len,
    const unsigned char **name, size_t *nl)
{
	const unsigned char *p, *ln;
	size_t n, lnl;

	if (type != FXP_NAME || len < 8 || sftpw_u32(d + 4) != 1)
		return -1;
	p = d + 8;
	n = len - 8;
	/* the name, its long form, then its attributes (not needed here) */
	if (sftpw_str(&p, &n, name, nl) != 0 ||
	    sftpw_str(&p, &n, &ln, &lnl) != 0 || n < 4)
		return -1;
	return 0;
}

int
sftpw_names(int type, const unsigned char *d, size_t len, uint32_t *count,
    struct sftpw_cursor *cur)
{
	if (type != FXP_NAME || len < 8)
		return -1;
	*count = sftpw_u32(d + 4);
	cur->p = d + 8;
	cur->n = len - 8;
	/* each name takes at least 12 bytes: no count beyond that */
	if (*count > cur->n / 12)
		return -1;
	return 0;
}

int
sftpw_name_next(struct sftpw_cursor *cur, struct sftpw_name *e)
{
	memset(e, 0, sizeof(*e));
	if (sftpw_str(&cur->p, &cur->n, &e->name, &e->nl) != 0 ||
	    sftpw_str(&cur->p, &cur->n, &e->longname, &e->ll) != 0 ||
	    parse_attrs(&cur->p, &cur->n, &e->st) != 0)
		return -1;
	return 0;
}

long
sftpw_longname_nlink(const unsigned char *ln, size_t n)
{
	size_t i = 0;
	long v = 0;
	int digits = 0;

	while (i < n && ln[i] != ' ')		/* the mode */
		i++;
	while (i < n && ln[i] == ' ')
		i++;
	for (; i < n && ln[i] >= '0' && ln[i] <= '9'; i++, digits++) {
		if (v > 100000000L)
			return -1;
		v = v * 10 + (ln[i] - '0');
	}
	if (digits == 0 || i >= n || ln[i] != ' ')
		return -1;
	return v;
}
