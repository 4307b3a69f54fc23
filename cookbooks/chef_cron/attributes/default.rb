# Each key sets the chef_cron resource property of the same name; see the
# resource for what each one means. nil keeps the property's own default.
default['chef_cron']['job_name'] = 'chef_cron'
default['chef_cron']['interval'] = 30
default['chef_cron']['schedule_key'] = nil
default['chef_cron']['delay_mode'] = 'hash'
default['chef_cron']['search_query'] = 'recipes:chef_cron*'
default['chef_cron']['splay'] = 0
default['chef_cron']['timeout'] = 3600
default['chef_cron']['rss_warn_mb'] = 1024
default['chef_cron']['runner_path'] = '/usr/local/sbin/chef-cron'
default['chef_cron']['lock_file'] = '/var/lib/chef_cron/lock/chef-cron.lock'
default['chef_cron']['firstboot_file'] = '/var/lock/chef-firstboot'
default['chef_cron']['log_file'] = '/var/log/chef_cron/chef-cron.log'
default['chef_cron']['status_file'] = '/var/lib/chef_cron/status.json'
default['chef_cron']['textfile_dir'] = nil
default['chef_cron']['chef_client_path'] = '/opt/chef/bin/chef-client'
default['chef_cron']['config_file'] = '/etc/chef/client.rb'
default['chef_cron']['accept_chef_license'] = false
default['chef_cron']['chef_client_options'] = []
default['chef_cron']['environment'] = {}
default['chef_cron']['path'] = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
default['chef_cron']['nice'] = nil
default['chef_cron']['mailto'] = nil
default['chef_cron']['action'] = 'add'
