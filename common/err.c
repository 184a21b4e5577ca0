#include "err.h"

const char *
err_str(int code)
{
	switch (code) {
	case ERR_OK:			return "success";
	case ERR_INTERNAL:		return "internal error";
	case ERR_NOMEM:			return "out of memory";
	case ERR_INVAL:			return "invalid value";
	case ERR_PARSE:			return "parse error";
	case ERR_IO:			return "I/O error";
	case ERR_NET:			return "network error";
	case ERR_TIMEOUT:		return "timed out";
	case ERR_HOSTKEY_UNKNOWN:	return "host key unknown";
	case ERR_HOSTKEY_CHANGED:	return "host key changed";
	case ERR_AUTH:			return "authentication failed";
	case ERR_SSH:			return "SSH error";
	case ERR_SFTP:			return "SFTP error";
	case ERR_REMOTE_CMD:		return "remote command failed";
	case ERR_TOOBIG:		return "too large";
	case ERR_CRYPTO:		return "cryptographic error";
	case ERR_DB:			return "database error";
	case ERR_NOTFOUND:		return "not found";
	case ERR_EXISTS:		return "already exists";
	case ERR_PERM:			return "permission denied";
	case ERR_VERIFY:		return "verification failed";
	case ERR_CANCELLED:		return "cancelled";
	case ERR_MISMATCH:		return "mismatch";
	case ERR_UNSAFE:		return "unsafe location";
	case ERR_HOSTKEY_REVOKED:	return "host key revoked";
	case ERR_BECOME:		return "privilege escalation refused";
	}
	return "unknown error";
}
