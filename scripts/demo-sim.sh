#!/usr/bin/env bash
# Starts or stops the demo's simulator (persistent state under DIR/sim).
set -euo pipefail
cmd=$1 dir=$2 port=$3
pidfile="$dir/sim/vmax-sim.pid"
running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
case "$cmd" in
  start)
    if running; then echo "vmax-sim already running (pid $(cat "$pidfile"))"; exit 0; fi
    mkdir -p "$dir/sim"
    nohup target/release/vmax-sim --listen "127.0.0.1:$port" --state "$dir/sim/state.json" \
      >"$dir/sim/stdout.log" 2>"$dir/sim/stderr.log" &
    echo $! >"$pidfile"
    for _ in $(seq 1 100); do
      if grep -q "listening on" "$dir/sim/stdout.log" 2>/dev/null; then
        echo "$(cat "$dir/sim/stdout.log") (pid $(cat "$pidfile"), state $dir/sim/state.json)"; exit 0
      fi
      running || { echo "vmax-sim failed to start:"; cat "$dir/sim/stderr.log"; exit 1; }
      sleep 0.1
    done
    echo "vmax-sim did not start in time"; exit 1 ;;
  stop)
    if running; then kill "$(cat "$pidfile")" && rm -f "$pidfile" && echo "vmax-sim stopped"; else echo "vmax-sim is not running"; fi ;;
  *) echo "usage: $0 start|stop DIR PORT"; exit 2 ;;
esac
