#
# Cookbook:: chef_cron
# Recipe:: remove
#
# Takes chef_cron off a node: deletes the cron entry, the runner, the
# logrotate config and the node_exporter metrics file that the default
# recipe wrote. The logs and the status
# file stay. The chef-client daemon stays disabled; start it yourself if the
# node should go back to it.

settings = node['chef_cron']

chef_cron settings['job_name'] do
  runner_path settings['runner_path']
  textfile_dir settings['textfile_dir']
  action :remove
end
