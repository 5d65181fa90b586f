# Debian's ACME test server for the e2e suites (sourced after common.sh, not run).
#
# start_pebble PORT MGMT_PORT HTTP_PORT TLS_PORT DNS: pebble on 127.0.0.1:PORT (directory at
# https://127.0.0.1:PORT/dir, its HTTPS certificate in $W/pebble.crt), validating HTTP-01 on
# HTTP_PORT and TLS-ALPN-01 on TLS_PORT, resolving names through the DNS server DNS
# (HOST:PORT); no sleep before validation. Its issuing root lands in $W/root.pem, its log in
# $W/pebble.log. Returns non-zero (with a FAIL line naming what went wrong) if it is not up.
start_pebble() {
  local port=$1 mgmt=$2 http=$3 tls=$4 dns=$5
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$W/pebble.key" \
    -out "$W/pebble.crt" 2>/dev/null
  cat >"$W/pebble.json" <<JSON
{ "pebble": { "listenAddress": "127.0.0.1:$port", "managementListenAddress": "127.0.0.1:$mgmt",
  "certificate": "$W/pebble.crt", "privateKey": "$W/pebble.key",
  "httpPort": $http, "tlsPort": $tls, "ocspResponderURL": "",
  "externalAccountBindingRequired": false } }
JSON
  PEBBLE_VA_NOSLEEP=1 pebble -config "$W/pebble.json" -dnsserver "$dns" >"$W/pebble.log" 2>&1 &
  PIDS+=($!)
  wait_for "$W/pebble.log" "Listening on" 100 || { ko "pebble: $(cat "$W/pebble.log")"; return 1; }
  curl -sf --cacert "$W/pebble.crt" "https://127.0.0.1:$mgmt/roots/0" >"$W/root.pem"
  grep -q "BEGIN CERTIFICATE" "$W/root.pem" || { ko "no pebble root"; return 1; }
}
