#!/bin/bash
# check-cli-docs.sh: the man page (packaging/man/dvsum-vpn.8) documents every
# command agent/cli.py defines, and the bash completion
# (packaging/completion/dvsum-vpn) completes those commands and their
# options.  Needs bash-completion (packaging/build-setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck disable=SC1091
source /usr/share/bash-completion/bash_completion
# shellcheck disable=SC1091
source packaging/completion/dvsum-vpn

failed=0
complete_line() {  # complete_line LINE EXPECTED: complete at the end of LINE
  local line=$1 expected=$2
  COMP_LINE=$line
  COMP_POINT=${#line}
  read -r -a COMP_WORDS <<< "$line"
  if [[ $line == *" " ]]; then COMP_WORDS+=(""); fi
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _dvsum_vpn
  local got="${COMPREPLY[*]}"
  if [ "$got" = "$expected" ]; then
    echo "ok   '$line' -> $got"
  else
    echo "FAIL '$line' -> '$got', expected '$expected'"
    failed=1
  fi
}

# Every command the CLI defines, and nothing else (order aside).
defined=$(sed -n 's/.* sub\.add_parser("\([a-z-]*\)".*/\1/p' agent/cli.py | sort)
offered=$(complete_line "dvsum-vpn " "" | sed -n "s/^FAIL '[^']*' -> '\([^']*\)'.*/\1/p" \
  | tr ' ' '\n' | grep -v '^-' | sort)
failed=0
if [ "$defined" = "$offered" ]; then
  echo "ok   commands: $(echo $offered)"
else
  echo "FAIL commands: the CLI defines $(echo $defined); completion offers $(echo $offered)"
  failed=1
fi
for command in $defined; do
  if grep -Eq "^\.B[IR]? \"?$command\b" packaging/man/dvsum-vpn.8; then
    echo "ok   man page: $command"
  else
    echo "FAIL man page: no entry for $command"
    failed=1
  fi
done
complete_line "dvsum-vpn --" "--config --verbose --version --help"
complete_line "dvsum-vpn pr" "prefer"
complete_line "dvsum-vpn prefer " "1 2 auto --help"
complete_line "dvsum-vpn --config /etc/x up --" "--timeout --no-wait --json --help"
complete_line "dvsum-vpn config " "check"
complete_line "dvsum-vpn config check --" "--config --json --help"
complete_line "dvsum-vpn import --psk" "--psk-file"
complete_line "dvsum-vpn status --" "--json --help"
complete_line "dvsum-vpn check --no" "--no-initiate"
exit $failed
