#!/usr/bin/env bash
# Makes a throwaway certificate authority and a server certificate signed by it, for tests and
# local use (never for production). Idempotent per directory: existing files are replaced.
#
# Usage: bash tools/tls/make-certs.sh OUT_DIR [--names=localhost,127.0.0.1,::1] [--key=ec|rsa]
#                                             [--days=30] [--prefix=server]
# Writes OUT_DIR/ca.crt, ca.key, PREFIX.crt (the server certificate followed by nothing else: the
# CA is the trust anchor), PREFIX.key, and PREFIX-chain.crt (server certificate + CA, what a server
# that sends its chain is configured with). Names that parse as IP addresses become IP SANs, the
# rest DNS SANs; the first name is also the subject CN. --key=ec (P-256, the default) or rsa (2048).
# A second run with another --prefix signs another server certificate with the same CA.
set -euo pipefail

out_dir=${1:?usage: make-certs.sh OUT_DIR [--names=...] [--key=ec|rsa] [--days=N] [--prefix=NAME]}
shift
names=localhost,127.0.0.1,::1
key_type=ec
days=30
prefix=server
for argument in "$@"; do
  case "$argument" in
    --names=*) names=${argument#--names=} ;;
    --key=*) key_type=${argument#--key=} ;;
    --days=*) days=${argument#--days=} ;;
    --prefix=*) prefix=${argument#--prefix=} ;;
    *) echo "make-certs: unknown argument $argument" >&2; exit 2 ;;
  esac
done

case "$key_type" in
  ec) key_args=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256) ;;
  rsa) key_args=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048) ;;
  *) echo "make-certs: --key must be ec or rsa, not $key_type" >&2; exit 2 ;;
esac

mkdir -p "$out_dir"
cd "$out_dir"

san=""
IFS=, read -r -a name_list <<<"$names"
for name in "${name_list[@]}"; do
  if [[ $name =~ ^[0-9.]+$ || $name == *:* ]]; then san+="IP:$name,"; else san+="DNS:$name,"; fi
done
san=${san%,}

if [ ! -s ca.key ] || [ ! -s ca.crt ]; then
  openssl genpkey "${key_args[@]}" -out ca.key 2>/dev/null
  openssl req -x509 -new -key ca.key -sha256 -days "$days" -subj "/CN=shoal throwaway test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.crt 2>/dev/null
fi

openssl genpkey "${key_args[@]}" -out "$prefix.key" 2>/dev/null
openssl req -new -key "$prefix.key" -subj "/CN=${name_list[0]}" -out "$prefix.csr" 2>/dev/null
openssl x509 -req -in "$prefix.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 \
  -days "$days" -out "$prefix.crt" \
  -extfile <(printf '%s\n' "subjectAltName=$san" "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth") 2>/dev/null
cat "$prefix.crt" ca.crt >"$prefix-chain.crt"
rm -f "$prefix.csr" ca.srl
chmod 600 ca.key "$prefix.key"
echo "make-certs: $out_dir/{ca.crt,$prefix.crt,$prefix-chain.crt,$prefix.key} for $names ($key_type)"
