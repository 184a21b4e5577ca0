#!/bin/sh
#
# tests/exports.sh BINARY -- fail if BINARY defines, in its dynamic symbol
# table, a function or variable of OpenSSL, libssh2 or libpq.  The dynamic
# linker binds every caller in the process to such a definition, libcrypto
# itself included: it replaces the library's code (and a FIPS provider's
# guarantees) for everyone.  docs/rotation.md says why pemrotate has none.
set -eu

bin=${1:?usage: tests/exports.sh BINARY}
syms=$(nm -D --defined-only "$bin") || { echo "nm failed on $bin" >&2; exit 1; }
# OpenSSL's prefixes (libcrypto and libssl), libssh2's, libpq's
libs='HMAC|RAND|EVP|OPENSSL|CRYPTO|OSSL|ossl|BN|BIO|EC|ECDSA|ECDH|RSA|DSA|DH'
libs="$libs|X509|X509V3|PEM|ASN1|ERR|SSL|TLS|DTLS|PKCS[0-9]*|SHA[0-9]*|MD[245]"
libs="$libs|AES|DES|CMAC|ENGINE|OBJ|CONF|NCONF|OCSP|CMS|UI|i2d|d2i|i2o|o2i"
libs="$libs|libssh2"
bad=$(printf '%s\n' "$syms" | awk '{ sub(/@.*/, "", $NF); print $NF }' |
    grep -E "^($libs)_|^(SHA1|SHA224|SHA256|SHA384|SHA512|MD5)\$|^PQ[a-zA-Z]" ||
    true)
if [ -n "$bad" ]; then
	echo "$bin exports library symbols (it must not interpose them):" >&2
	printf '  %s\n' $bad >&2
	exit 1
fi
echo "$bin: no OpenSSL, libssh2 or libpq symbol exported"
