#!/usr/bin/env bash
# Adds up the passed/failed counts of every suite's log into one closing line.
# Reads cargo's "test result:" lines and node's test runner ("# pass N" / "# fail N" /
# "# skipped N", TAP reporter).
set -uo pipefail
awk '
  /test result: [a-zA-Z]+\. [0-9]+ passed; [0-9]+ failed; [0-9]+ ignored/ {
    for (i = 1; i <= NF; i++) {
      if ($(i+1) ~ /^passed;?$/) p += $i
      if ($(i+1) ~ /^failed;?$/) f += $i
      if ($(i+1) ~ /^ignored;?$/) s += $i
    }
  }
  /^# pass [0-9]+$/    { p += $3 }
  /^# fail [0-9]+$/    { f += $3 }
  /^# skipped [0-9]+$/ { s += $3 }
  END { printf "summary: %d passed, %d failed, %d skipped\n", p, f, s }
' $(for f in "$@"; do [ -f "$f" ] && printf "%s " "$f"; done) /dev/null
