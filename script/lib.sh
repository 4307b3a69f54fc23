# Shared settings for the scripts in this folder; sourced, not run.

set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian's tools first: this project installs docker.io, ruby and python3
# packages, and another docker CLI or python3 earlier on PATH would see
# neither the same daemon API version nor Debian's Python packages.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

# Everything that setup downloads or builds outside the checkout lives here,
# so a fresh clone on the same machine reuses it.
cache_dir=${CHEF_CRON_CACHE:-/var/cache/chef-cron}

# Gems for Test Kitchen, at the versions that Gemfile.lock pins.
export BUNDLE_GEMFILE=$repo_root/Gemfile
export BUNDLE_PATH=$cache_dir/bundle
export BUNDLE_APP_CONFIG=$cache_dir/bundle-config
export BUNDLE_FROZEN=true
export BUNDLE_SILENCE_ROOT_WARNING=1

# Chef 18 refuses to run until its license is accepted.
export CHEF_LICENSE=accept-no-persist

# Kitchen platforms to build and test, as a comma-separated list.
export CHEF_CRON_PLATFORMS=${CHEF_CRON_PLATFORMS:-debian-12,debian-13}

say() {
  printf 'chef_cron: %s\n' "$*" >&2
}

die() {
  say "error: $*"
  exit 1
}
