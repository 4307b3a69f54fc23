provides :chef_cron
unified_mode true

description 'Runs chef-client --once from cron through the chef-cron runner, at a ' \
            'per-node minute and second taken from a stable digest of the node name, ' \
            'and stops and disables the chef-client daemon.'

examples <<~'DOC'
  **Run every 30 minutes with the defaults**

  ```ruby
  chef_cron 'chef_cron'
  ```

  **Run every 15 minutes, time out after 20 minutes, and feed node_exporter**

  ```ruby
  chef_cron 'chef_cron' do
    interval 15
    timeout 1200
    textfile_dir '/var/lib/prometheus/node-exporter'
  end
  ```
DOC

property :job_name, String,
         name_property: true,
         regex: ChefCron::CronLine::JOB_NAME,
         description: 'File name in /etc/cron.d. Letters, digits, underscores and hyphens only, ' \
                      'because Debian cron skips names with a dot.'

property :interval, Integer,
         default: 30,
         callbacks: {
           'must be a number of minutes that divides 60' => ->(v) { ChefCron::Schedule::ALLOWED_INTERVALS.include?(v) },
         },
         description: 'Minutes between two runs. Must divide 60.'

property :schedule_key, String,
         default: lazy { node.name },
         callbacks: { 'must be one line' => ->(v) { ChefCron::CronLine.one_line?(v) } },
         default_description: 'node.name',
         description: 'Stable id that places this node in the interval. Renaming the node moves its slot.'

property :delay_mode, String,
         equal_to: %w(hash coordinated),
         default: 'hash',
         description: "'hash' places the node by a digest of schedule_key and needs nothing else. " \
                      "'coordinated' ranks the node names that search_query returns and spaces " \
                      'them evenly; it falls back to hash mode when search fails or does not return this node.'

property :search_query, String,
         default: 'recipes:chef_cron*',
         description: 'Node search whose results share the interval in coordinated mode.'

property :splay, Integer,
         default: 0,
         callbacks: { 'must be from 0 to 3600 seconds' => ->(v) { v.between?(0, 3600) } },
         description: 'Upper bound, in seconds, of a random sleep added on top of the per-node delay.'

property :timeout, Integer,
         default: 3600,
         callbacks: { 'must be from 1 to 86400 seconds' => ->(v) { v.between?(1, 86_400) } },
         description: 'Seconds after which the runner ends chef-client and every command it is waiting on.'

property :rss_warn_mb, Integer,
         default: 1024,
         callbacks: { 'must be 0 (off) or more' => ->(v) { v >= 0 } },
         description: 'The runner logs a warning when chef-client peaks above this many MiB. 0 turns it off.'

property :runner_path, String,
         default: '/usr/local/sbin/chef-cron',
         callbacks: { 'must be an absolute path on one line' => ->(v) { ChefCron::CronLine.absolute_path?(v) } },
         description: 'Where the chef-cron runner is installed.'

property :lock_file, String,
         default: '/var/lib/chef_cron/lock/chef-cron.lock',
         callbacks: { 'must be an absolute path on one line' => ->(v) { ChefCron::CronLine.absolute_path?(v) } },
         description: 'Lock that keeps two runs from overlapping. Its directory is made root-only.'

property :firstboot_file, String,
         default: '/var/lock/chef-firstboot',
         callbacks: { 'must be an absolute path on one line' => ->(v) { ChefCron::CronLine.absolute_path?(v) } },
         description: 'While a root-owned regular file exists here, runs are skipped.'

property :log_file, String,
         default: '/var/log/chef_cron/chef-cron.log',
         callbacks: {
           'must be an absolute path of letters, digits and . _ / - only' => ->(v) { ChefCron::CronLine.plain_path?(v) },
         },
         description: 'Log of the runner and of chef-client. Kept by :remove.'

property :status_file, String,
         default: '/var/lib/chef_cron/status.json',
         callbacks: { 'must be an absolute path on one line' => ->(v) { ChefCron::CronLine.absolute_path?(v) } },
         description: 'JSON status of the last run, read by `chef-cron status`.'

property :textfile_dir, [String, nil],
         callbacks: { 'must be an absolute path on one line' => ->(v) { v.nil? || ChefCron::CronLine.absolute_path?(v) } },
         description: 'node_exporter textfile collector directory. Nil writes no metrics file.'

property :chef_client_path, String,
         default: '/opt/chef/bin/chef-client',
         callbacks: { 'must be an absolute path on one line' => ->(v) { ChefCron::CronLine.absolute_path?(v) } },
         description: 'chef-client executable.'

property :config_file, [String, nil],
         default: '/etc/chef/client.rb',
         callbacks: { 'must be an absolute path on one line' => ->(v) { v.nil? || ChefCron::CronLine.absolute_path?(v) } },
         description: 'client.rb passed as --config. Nil leaves it to chef-client.'

property :accept_chef_license, [true, false],
         default: false,
         description: 'Pass --chef-license accept to chef-client.'

property :chef_client_options, Array,
         default: [],
         callbacks: {
           'must contain only strings, each on one line' => lambda { |v|
             v.all? { |option| option.is_a?(String) && ChefCron::CronLine.one_line?(option) }
           },
           'must not make chef-client a daemon (-d, --daemonize, -i, --interval)' => lambda { |v|
             v.none? { |option| ChefCron::CronLine.daemon_option?(option) }
           },
         },
         description: 'Extra chef-client arguments, one array element each.'

property :environment, Hash,
         default: {},
         callbacks: {
           'must map variable names to strings, each on one line' => lambda { |v|
             v.all? { |k, val| k.to_s.match?(ChefCron::CronLine::ENV_NAME) && val.is_a?(String) && ChefCron::CronLine.one_line?(val) }
           },
           'must not set PATH or HOME, which the runner fixes' => ->(v) { (v.keys.map(&:to_s) & %w(PATH HOME)).empty? },
         },
         description: 'Environment variables for chef-client, such as http_proxy. Local users can read them ' \
                      'in the cron file and the process list, so keep secrets in client.rb. The runner passes ' \
                      'only these, PATH and the locale, because it scrubs the rest.'

property :path, String,
         default: ChefCron::CronLine::DEFAULT_PATH,
         callbacks: { 'must be one line' => ->(v) { ChefCron::CronLine.one_line?(v) } },
         description: 'PATH line of the cron file.'

property :nice, [Integer, nil],
         callbacks: { 'must be from -20 to 19' => ->(v) { v.nil? || v.between?(-20, 19) } },
         description: 'Niceness for the runner and chef-client. Nil runs them unchanged.'

property :mailto, [String, nil],
         callbacks: { 'must be one line' => ->(v) { v.nil? || ChefCron::CronLine.one_line?(v) } },
         description: 'MAILTO line of the cron file. Nil leaves cron to mail root; an empty string turns mail off.'

action_class do
  # Cron line settings, in the shape that ChefCron::CronLine expects.
  def cron_settings(schedule)
    {
      runner_path: new_resource.runner_path,
      delay: schedule[:delay],
      splay: new_resource.splay,
      timeout: new_resource.timeout,
      lock_file: new_resource.lock_file,
      firstboot_file: new_resource.firstboot_file,
      log_file: new_resource.log_file,
      status_file: new_resource.status_file,
      textfile_dir: new_resource.textfile_dir,
      rss_warn_mb: new_resource.rss_warn_mb,
      chef_client_path: new_resource.chef_client_path,
      environment: new_resource.environment,
      config_file: new_resource.config_file,
      accept_chef_license: new_resource.accept_chef_license,
      chef_client_options: new_resource.chef_client_options,
      nice: new_resource.nice,
    }
  end

  # Returns this node's {minute:, delay:} for the chosen delay mode.
  def schedule
    key = new_resource.schedule_key
    interval = new_resource.interval
    return ChefCron::Schedule.compute(key, interval: interval) if new_resource.delay_mode == 'hash'

    peers = peer_names
    unless peers.include?(key)
      # A node that registers for the first time is not in the index yet.
      Chef::Log.warn("chef_cron: #{key} is not among the #{peers.size} nodes that " \
                     "'#{new_resource.search_query}' returns; using hash mode")
      return ChefCron::Schedule.compute(key, interval: interval)
    end

    Chef::Log.info("chef_cron: #{key} shares the interval with #{peers.size} nodes")
    ChefCron::Schedule.coordinated(key, peers, interval: interval)
  end

  # Names of the nodes that search_query returns, or [] when search fails,
  # so that a Chef server outage never stops a converge.
  def peer_names
    search(:node, new_resource.search_query, filter_result: { 'name' => ['name'] }).map { |peer| peer['name'] }.compact.uniq
  rescue StandardError => e
    Chef::Log.warn("chef_cron: node search '#{new_resource.search_query}' failed (#{e.class}: #{e.message}); using hash mode")
    []
  end

  def cron_file
    ::File.join('/etc/cron.d', new_resource.job_name)
  end

  # A service resource for a unit or init script that does not exist fails on
  # most providers, so the daemon is handled only where it is installed.
  def chef_client_service_installed?
    ::File.exist?('/etc/init.d/chef-client') ||
      ::File.exist?('/etc/systemd/system/chef-client.service') ||
      ::File.exist?('/lib/systemd/system/chef-client.service')
  end
end

action :add do
  description 'Install the runner and the cron entry, and stop the chef-client daemon.'

  # Everything that goes into the cron file is computed first: in unified
  # mode each resource below converges as soon as it is declared, so an
  # error found later would leave the node half changed.
  if new_resource.splay >= new_resource.interval * 60
    raise ArgumentError, "chef_cron: splay #{new_resource.splay} is invalid for interval #{new_resource.interval}. " \
                         "Use fewer seconds than the interval has (#{new_resource.interval * 60}), or runs would skip each other"
  end
  schedule = self.schedule
  command = ChefCron::CronLine.command(cron_settings(schedule))
  Chef::Log.info("chef_cron: #{new_resource.schedule_key} runs at minute #{schedule[:minute]} " \
                 "plus #{schedule[:delay]} s every #{new_resource.interval} minutes")

  package %w(python3 cron)

  # Each directory gets its mode only when this resource creates it, so a
  # path such as /tmp/status.json never chmods a directory that other
  # software shares. The runner rejects a lock, log or status directory that
  # other users can write to, so such a setting fails loudly at run time.
  # The lock directory is made root-only, so no other user can create,
  # replace or hold the lock.
  {
    ::File.dirname(new_resource.status_file) => '0755',
    ::File.dirname(new_resource.lock_file) => '0700',
    ::File.dirname(new_resource.log_file) => '0750',
  }.each do |path, dir_mode|
    directory path do
      mode dir_mode
      recursive true
      not_if { ::File.exist?(path) }
    end
  end

  cookbook_file new_resource.runner_path do
    source 'chef-cron'
    cookbook 'chef_cron'
    owner 'root'
    group 'root'
    mode '0755'
  end

  template cron_file do
    source 'cron.erb'
    cookbook 'chef_cron'
    owner 'root'
    group 'root'
    mode '0644'
    variables(
      identity: new_resource.schedule_key,
      interval: new_resource.interval,
      schedule: schedule,
      digest: ChefCron::Schedule::DIGEST,
      path: new_resource.path,
      mailto: new_resource.mailto,
      command: command
    )
  end

  template "/etc/logrotate.d/#{new_resource.job_name}" do
    source 'logrotate.erb'
    cookbook 'chef_cron'
    owner 'root'
    group 'root'
    mode '0644'
    variables(log_file: new_resource.log_file)
  end

  # The runner stops a daemon it finds at run time as well; disabling it here
  # keeps it from coming back at the next boot.
  service 'chef-client' do
    # Without status support, Chef looks for "chef-client" in the process
    # table, finds the chef-client that runs this converge, and stops the
    # service again on every run.
    supports status: true
    action [:stop, :disable]
    only_if { chef_client_service_installed? }
  end

  service 'cron' do
    action [:enable, :start]
  end
end

action :remove do
  description 'Remove the cron entry, the runner and the logrotate config. Logs and status stay.'

  file cron_file do
    action :delete
  end

  file "/etc/logrotate.d/#{new_resource.job_name}" do
    action :delete
  end

  file new_resource.runner_path do
    action :delete
  end

  # node_exporter would go on exporting the last figures forever.
  if new_resource.textfile_dir
    file ::File.join(new_resource.textfile_dir, 'chef_cron.prom') do
      action :delete
    end
  end
end
