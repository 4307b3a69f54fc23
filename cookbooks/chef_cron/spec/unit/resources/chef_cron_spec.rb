# frozen_string_literal: true

require 'shellwords'
require_relative '../../spec_helper'

describe 'chef_cron' do
  # ChefSpec loads the cookbook's resources before a recipe block only when
  # the platform is set here.
  platform 'debian', '12'
  step_into :chef_cron

  let(:cron_file) { '/etc/cron.d/chef_cron' }

  # The directory resources check the machine that runs the spec, so
  # File.exist? is stubbed for their paths.
  def stub_existing_paths(existing)
    allow(File).to receive(:exist?).and_call_original
    %w(/var/lib/chef_cron /var/lib/chef_cron/lock /var/log/chef_cron /var/log /tmp).each do |path|
      allow(File).to receive(:exist?).with(path).and_return(existing.include?(path))
    end
  end

  context 'with action :add and no properties' do
    recipe do
      chef_cron 'chef_cron'
    end

    before { stub_existing_paths([]) }

    let(:expected) { ChefCron::Schedule.compute(chef_run.node.name, interval: 30) }

    it { is_expected.to install_package(%w(python3 cron)) }
    it { is_expected.to create_directory('/var/lib/chef_cron/lock').with(mode: '0700') }
    it { is_expected.to create_directory('/var/log/chef_cron').with(mode: '0750') }
    it { is_expected.to create_cookbook_file('/usr/local/sbin/chef-cron').with(owner: 'root', mode: '0755') }
    it { is_expected.to create_template(cron_file).with(owner: 'root', group: 'root', mode: '0644') }
    it { is_expected.to create_template('/etc/logrotate.d/chef_cron') }
    it { is_expected.to enable_service('cron') }
    it { is_expected.to start_service('cron') }

    it 'starts the job at the minutes the library computes for the node name' do
      expect(chef_run).to render_file(cron_file).with_content(/^#{Regexp.escape(expected[:minute])} \* \* \* \* root /)
    end

    it 'passes the delay that the library computes' do
      expect(chef_run).to render_file(cron_file).with_content("--delay #{expected[:delay]} ")
    end

    it 'says the file is managed' do
      expect(chef_run).to render_file(cron_file).with_content(/\A# Managed by Chef \(chef_cron\)/)
    end

    it 'leaves the chef-client service alone when it is not installed' do
      expect(chef_run).not_to stop_service('chef-client')
    end
  end

  context 'with log and status files in shared directories' do
    recipe do
      chef_cron 'chef_cron' do
        log_file '/var/log/chef-cron.log'
        status_file '/tmp/chef-cron-status.json'
      end
    end

    before { stub_existing_paths(%w(/var/log /tmp)) }

    it 'leaves the mode of an existing directory alone' do
      expect(chef_run).not_to create_directory('/var/log')
      expect(chef_run).not_to create_directory('/tmp')
    end
  end

  context 'with a splay as long as the interval' do
    recipe do
      chef_cron 'chef_cron' do
        interval 1
        splay 60
      end
    end

    it 'fails before anything changes' do
      expect { chef_run }.to raise_error(ArgumentError, /splay 60 is invalid for interval 1/)
    end
  end

  context 'with action :remove and a textfile directory' do
    recipe do
      chef_cron 'chef_cron' do
        textfile_dir '/var/lib/node-exporter'
        action :remove
      end
    end

    it { is_expected.to delete_file('/var/lib/node-exporter/chef_cron.prom') }
  end

  context 'with action :add and a chef-client service installed' do
    recipe do
      chef_cron 'chef_cron'
    end

    before do
      allow(File).to receive(:exist?).and_call_original
      allow(File).to receive(:exist?).with('/lib/systemd/system/chef-client.service').and_return(true)
    end

    it { is_expected.to stop_service('chef-client') }
    it { is_expected.to disable_service('chef-client') }
  end

  context 'with action :add and every option set' do
    recipe do
      chef_cron 'chef-runs' do
        interval 15
        schedule_key 'web-001'
        splay 30
        timeout 1200
        textfile_dir '/var/lib/node-exporter'
        accept_chef_license true
        chef_client_options ['-l', 'warn']
        environment('http_proxy' => 'http://proxy:3128')
        nice 10
        mailto ''
      end
    end

    let(:cron_file) { '/etc/cron.d/chef-runs' }
    let(:expected) { ChefCron::Schedule.compute('web-001', interval: 15) }

    it 'uses the schedule key and interval' do
      expect(chef_run).to render_file(cron_file).with_content(/^#{Regexp.escape(expected[:minute])} \* \* \* \* root nice -n 10 /)
    end

    it 'passes the runner options' do
      expect(chef_run).to render_file(cron_file).with_content('--splay 30 --timeout 1200 ')
    end

    it 'passes the environment through the runner' do
      expect(chef_run).to render_file(cron_file).with_content { |content|
        job = content.lines.grep(/ root /).first
        expect(Shellwords.split(job)).to include('--setenv', 'http_proxy=http://proxy:3128')
      }
    end

    it 'passes the chef-client options after --' do
      expect(chef_run).to render_file(cron_file).with_content('-- --config /etc/chef/client.rb --chef-license accept -l warn')
    end

    it 'turns mail off' do
      expect(chef_run).to render_file(cron_file).with_content(/^MAILTO=""$/)
    end
  end

  context 'with delay_mode coordinated' do
    recipe do
      chef_cron 'chef_cron' do
        delay_mode 'coordinated'
        schedule_key 'app-03'
      end
    end

    let(:peers) { %w(app-01 app-02 app-03 app-04) }

    before do
      stub_search(:node, 'recipes:chef_cron*').and_return(peers.map { |name| { 'name' => name } })
    end

    it 'takes the slot that the library gives among the peers' do
      expected = ChefCron::Schedule.coordinated('app-03', peers, interval: 30)
      expect(chef_run).to render_file(cron_file).with_content("--delay #{expected[:delay]} ")
    end
  end

  context 'with delay_mode coordinated and a failing search' do
    recipe do
      chef_cron 'chef_cron' do
        delay_mode 'coordinated'
        schedule_key 'app-03'
      end
    end

    before do
      stub_search(:node, 'recipes:chef_cron*').and_raise(Errno::ECONNREFUSED)
    end

    it 'falls back to hash mode' do
      expected = ChefCron::Schedule.compute('app-03', interval: 30)
      expect(chef_run).to render_file(cron_file).with_content("--delay #{expected[:delay]} ")
    end
  end

  context 'with action :remove' do
    recipe do
      chef_cron 'chef_cron' do
        action :remove
      end
    end

    it { is_expected.to delete_file(cron_file) }
    it { is_expected.to delete_file('/etc/logrotate.d/chef_cron') }
    it { is_expected.to delete_file('/usr/local/sbin/chef-cron') }
    it { is_expected.not_to delete_directory('/var/log/chef_cron') }
    it { is_expected.not_to create_template(cron_file) }
  end

  # Each invalid value fails when the resource is declared, before any
  # resource converges. Line breaks would otherwise add jobs to the cron file.
  [
    [:job_name, 'chef.cron'],
    [:interval, 7],
    [:splay, -1],
    [:timeout, 0],
    [:nice, 20],
    [:delay_mode, 'random'],
    [:runner_path, 'chef-cron'],
    [:runner_path, "/usr/local/sbin/chef-cron\nx"],
    [:log_file, 'chef-cron.log'],
    [:log_file, '/var/log/chef cron.log'],
    [:log_file, '/var/log/*.log'],
    [:textfile_dir, 'metrics'],
    [:rss_warn_mb, -1],
    [:chef_client_options, [1]],
    [:chef_client_options, ["-o\nrecipe[x]"]],
    [:environment, { 'BAD NAME' => 'x' }],
    [:environment, { 'http_proxy' => "a\nb" }],
    [:environment, { 'PATH' => '/opt/evil' }],
    [:chef_client_options, ['--daemonize']],
    [:chef_client_options, ['--interval=1800']],
    [:mailto, "root\n* * * * * root evil"],
    [:path, "/bin\n* * * * * root evil"],
    [:schedule_key, "web-01\n* * * * * root evil"],
  ].each do |property, value|
    context "with #{property} #{value.inspect}" do
      recipe do
        chef_cron 'chef_cron' do
          send(property, value)
        end
      end

      it 'fails with a message that names the property' do
        expect { chef_run }.to raise_error(Chef::Exceptions::ValidationFailed, /#{property}/)
      end
    end
  end
end
