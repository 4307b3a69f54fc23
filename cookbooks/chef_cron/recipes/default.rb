#
# Cookbook:: chef_cron
# Recipe:: default
#
# Runs chef-client from cron instead of as a daemon. Every attribute under
# node['chef_cron'] maps to the chef_cron property of the same name.

settings = node['chef_cron']

chef_cron settings['job_name'] do
  interval settings['interval']
  schedule_key settings['schedule_key'] unless settings['schedule_key'].nil?
  delay_mode settings['delay_mode']
  search_query settings['search_query']
  splay settings['splay']
  timeout settings['timeout']
  rss_warn_mb settings['rss_warn_mb']
  runner_path settings['runner_path']
  lock_file settings['lock_file']
  firstboot_file settings['firstboot_file']
  log_file settings['log_file']
  status_file settings['status_file']
  textfile_dir settings['textfile_dir']
  chef_client_path settings['chef_client_path']
  config_file settings['config_file']
  accept_chef_license settings['accept_chef_license']
  chef_client_options settings['chef_client_options'].to_a
  environment settings['environment'].to_h
  path settings['path']
  nice settings['nice']
  mailto settings['mailto']
  action settings['action'].to_sym
end
