/*
 * fuzz_sftp.c: libFuzzer target for the SFTP reply parser
 * (transport/sftpwire.c).
 *
 * The input is what an SFTP server sent (untrusted): a stream of packets,
 * the first taken as the VERSION reply.  Each whole packet is handed to
 * every parser as its type says and as every other type, with an "asked"
 * size taken from the input.  A parser that accepts must have pointed
 * only inside the packet, within the bounds the protocol and the request
 * set; ASan catches any read outside the bytes given.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_check.h"
#include "transport/sftpwire.h"

static const int types[] = { FXP_STATUS, FXP_HANDLE, FXP_DATA, FXP_ATTRS,
    FXP_VERSION, FXP_NAME, 0 };

static void
one_reply(int type, const unsigned char *d, size_t len, size_t ask)
{
	const unsigned char *h, *data;
	struct sftp_stat st;
	size_t hl, dl;
	long s;

	s = sftpw_status(type, d, len);
	CHECK(type == FXP_STATUS ? s >= 0 && s <= 0xffffffffL : s == -1);
	if (sftpw_handle(type, d, len, &h, &hl) == 0) {
		CHECK(type == FXP_HANDLE && hl <= SFTP_MAX_HANDLE);
		CHECK(h == d + 8 && 8 + hl == len);
	}
	if (sftpw_data(type, d, len, ask, &data, &dl) == 0) {
		CHECK(type == FXP_DATA && dl <= ask);
		CHECK(data == d + 8 && 8 + dl <= len);
	}
	if (sftpw_attrs(type, d, len, &st) == 0) {
		CHECK(type == FXP_ATTRS);
		CHECK(st.is_dir + st.is_reg + st.is_lnk <= 1);
	}
	if (sftpw_name1(type, d, len, &data, &dl) == 0) {
		CHECK(type == FXP_NAME);
		CHECK(data == d + 12 && 12 + dl <= len);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	size_t left = size, plen = 0, ask, i;
	unsigned char *pkt;
	uint32_t ver;
	unsigned fs;
	int first = 1, r;

	if (size < 1)
		return 0;
	ask = (size_t)data[0] * 97;	/* the size a READ asked for */
	p++;
	left--;
	while ((r = sftpw_packet(p, left, &plen)) == 1) {
		CHECK(plen >= 5 && plen <= SFTP_MAX_PACKET && plen <= left - 4);
		/* the body alone on the heap: ASan sees its end */
		pkt = malloc(plen);
		CHECK(pkt != NULL);
		memcpy(pkt, p + 4, plen);
		if (first && sftpw_version(pkt, plen, &ver, &fs) == 0)
			CHECK(pkt[0] == FXP_VERSION && (fs & ~7u) == 0);
		first = 0;
		one_reply(pkt[0], pkt + 1, plen - 1, ask);
		for (i = 0; types[i] != 0; i++)
			one_reply(types[i], pkt + 1, plen - 1, ask);
		free(pkt);
		p += 4 + plen;
		left -= 4 + plen;
	}
	CHECK(r == 0 || r == -1);
	return 0;
}
