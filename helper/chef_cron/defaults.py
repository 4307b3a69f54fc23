"""Default values of the command-line options, in one module that costs nothing to import.

cli.py builds its help text from these, and the modules that use a value
import it from here, so the help and the behaviour cannot drift apart.
"""

LOCK_FILE = "/var/lib/chef_cron/lock/chef-cron.lock"
LOG_FILE = "/var/log/chef_cron/chef-cron.log"
STATUS_FILE = "/var/lib/chef_cron/status.json"
# /var/lock is a symlink to the tmpfs /run/lock on Debian, so the marker
# disappears at reboot unless the first-boot run recreates it.
FIRSTBOOT_FILE = "/var/lock/chef-firstboot"
CHEF_CLIENT = "/opt/chef/bin/chef-client"
SYSLOG_SOCKET = "/dev/log"
# --delay is an offset inside the hour that the cookbook derives from the node name.
MAX_DELAY = 3599
# One hour: a converge that takes longer is stuck, and runs would pile up
# behind the lock with the cookbook's default 30-minute interval.
TIMEOUT = 3600
KILL_GRACE = 30
RSS_WARN_MB = 1024
# Two default 30-minute intervals, plus margin for splay and run time.
MAX_AGE = 7200
# Minimum time limit of the service manager's stop command, also with
# --kill-grace 0, so that a hung ``systemctl stop`` cannot hang the run.
MIN_SERVICE_STOP_SECONDS = 30
