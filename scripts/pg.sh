#!/usr/bin/env bash
# A throwaway PostgreSQL cluster under target/pg for the tests:
#   eval "$(bash scripts/pg.sh start)"   # exports KEHU_PG_URL, starts the server
#   bash scripts/pg.sh restart                 # cuts every connection (a test of it)
#   bash scripts/pg.sh stop
# Installs Debian's server package when initdb is missing; runs the server as
# an unprivileged user when called as root (PostgreSQL refuses to run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${KEHU_PG_DIR:-$PWD/target/pg}"
find_bin() {
    local found
    found=$(command -v "$1" 2>/dev/null || true)
    if [ -z "$found" ]; then
        found=$(ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1 || true)
    fi
    echo "$found"
}
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u "$owner" -- "$@"; else "$@"; fi
}
owner=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
    owner=kehu-pg
    id "$owner" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$owner"
fi
case "${1:-}" in
start)
    initdb=$(readlink -f "$(find_bin initdb)" 2>/dev/null || true)
    if [ -z "$initdb" ]; then
        sudo=""; if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
        { $sudo apt-get install -y -q postgresql >/dev/null 2>&1 || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q postgresql >/dev/null; }; } >&2
        initdb=$(readlink -f "$(find_bin initdb)")
    fi
    pg_ctl=$(dirname "$initdb")/pg_ctl
    [ -x "$pg_ctl" ] || pg_ctl=$(find_bin pg_ctl)
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$pg_ctl" -D "$dir/data" stop -m immediate >/dev/null 2>&1 || true
    fi
    if [ -L "$dir" ]; then rm -rf "$(readlink -f "$dir")"; fi
    rm -rf "$dir"
    mkdir -p "$dir"
    chown "$owner" "$dir"
    chmod 755 "$dir"
    # The server's user must reach the cluster: a checkout under a private
    # home directory keeps it out, and the cluster then lives in /tmp, with
    # target/pg pointing to it.
    if ! as_owner test -w "$dir"; then
        rm -rf "$dir"
        real=$(mktemp -d /tmp/kehu-pg.XXXXXX)
        chown "$owner" "$real"
        chmod 755 "$real"
        ln -s "$real" "$dir"
    fi
    as_owner "$initdb" -D "$dir/data" -U kehu --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    # TLS with a certificate of its own (for localhost and 127.0.0.1): the
    # tests connect with sslmode=require and verify-full (KEHU_PG_CA).
    ssl=()
    if ! command -v openssl >/dev/null 2>&1; then
        sudo=""; if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
        $sudo apt-get install -y -q openssl >/dev/null 2>&1 || true
    fi
    if command -v openssl >/dev/null 2>&1; then
        openssl req -new -x509 -days 7 -nodes -subj "/CN=kehu test CA" \
            -keyout "$dir/ca.key" -out "$dir/ca.crt" >/dev/null 2>&1
        openssl req -new -nodes -subj /CN=localhost \
            -keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$dir/server.ext"
        openssl x509 -req -days 7 -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
            -CAcreateserial -extfile "$dir/server.ext" -out "$dir/server.crt" >/dev/null 2>&1
        chown "$owner" "$dir/server.key" "$dir/server.crt"
        chmod 600 "$dir/server.key"
        # A client certificate for the role kehu_cert, which may log in with
        # nothing else (the tests of sslcert/sslkey).
        openssl req -new -nodes -subj /CN=kehu_cert \
            -keyout "$dir/client.key" -out "$dir/client.csr" >/dev/null 2>&1
        printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' > "$dir/client.ext"
        openssl x509 -req -days 7 -in "$dir/client.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
            -CAcreateserial -extfile "$dir/client.ext" -out "$dir/client.crt" >/dev/null 2>&1
        chmod 600 "$dir/client.key"
        hba="$dir/data/pg_hba.conf"
        { printf 'hostssl all kehu_cert 127.0.0.1/32 cert\nhost all kehu_cert 127.0.0.1/32 reject\n'; cat "$hba"; } > "$hba.new"
        mv "$hba.new" "$hba"
        chown "$owner" "$hba"
        ssl=(-c ssl=on -c "ssl_cert_file=$dir/server.crt" -c "ssl_key_file=$dir/server.key" -c "ssl_ca_file=$dir/ca.crt")
    fi
    # A free local port: ask the kernel for one.
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 ${ssl[*]}" start >/dev/null
    as_owner "$(dirname "$initdb")/createdb" -h 127.0.0.1 -p "$port" -U kehu kehu_test
    as_owner "$(dirname "$initdb")/psql" -h 127.0.0.1 -p "$port" -U kehu -d kehu_test -qc "CREATE ROLE kehu_cert LOGIN" >/dev/null
    echo "$port" > "$dir/port"
    echo "export KEHU_PG_URL=postgres://kehu@127.0.0.1:$port/kehu_test"
    if [ -f "$dir/ca.crt" ]; then echo "export KEHU_PG_CA=$dir/ca.crt"; fi
    if [ -f "$dir/client.crt" ]; then
        echo "export KEHU_PG_CLIENT_CERT=$dir/client.crt KEHU_PG_CLIENT_KEY=$dir/client.key"
    fi
    ;;
restart)
    # The same cluster, stopped (open connections cut) and started again on
    # its port: the tests of a server restart in the middle of an import.
    pg_ctl=$(find_bin pg_ctl)
    as_owner "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 restart -m fast >/dev/null
    ;;
stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
        pg_ctl=$(find_bin pg_ctl)
        as_owner "$pg_ctl" -D "$dir/data" stop -m fast >/dev/null
    fi
    ;;
*)
    echo "usage: bash scripts/pg.sh start|restart|stop" >&2
    exit 2
    ;;
esac
