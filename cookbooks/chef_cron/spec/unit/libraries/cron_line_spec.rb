require 'shellwords'
require_relative '../../../libraries/cron_line'

RSpec.describe ChefCron::CronLine do
  let(:settings) do
    {
      runner_path: '/usr/local/sbin/chef-cron',
      delay: 37,
      splay: 0,
      timeout: 3600,
      lock_file: '/var/lib/chef_cron/lock/chef-cron.lock',
      chef_client_path: '/opt/chef/bin/chef-client',
      config_file: '/etc/chef/client.rb',
    }
  end

  # What /bin/sh would pass to the runner, after cron has turned \% back into %.
  def shell_words(command)
    Shellwords.split(command.gsub('\%', '%'))
  end

  describe '.runner_args' do
    it 'starts with the runner and its run subcommand' do
      expect(described_class.runner_args(settings).first(2)).to eq(['/usr/local/sbin/chef-cron', 'run'])
    end

    it 'passes the delay as a runner option' do
      args = described_class.runner_args(settings)
      expect(args[args.index('--delay') + 1]).to eq('37')
    end

    it 'leaves out options whose value is nil' do
      expect(described_class.runner_args(settings.merge(textfile_dir: nil))).not_to include('--textfile-dir')
    end

    it 'puts chef-client arguments after --' do
      args = described_class.runner_args(settings)
      expect(args[args.index('--') + 1, 2]).to eq(['--config', '/etc/chef/client.rb'])
    end

    it 'passes environment variables sorted, as --setenv' do
      args = described_class.runner_args(settings.merge(environment: { 'no_proxy' => 'a', 'http_proxy' => 'b' }))
      expect(args.each_cons(2).select { |flag, _| flag == '--setenv' }.map(&:last)).to eq(%w(http_proxy=b no_proxy=a))
    end
  end

  describe '.chef_client_args' do
    it 'accepts the license only when asked' do
      expect(described_class.chef_client_args(settings)).not_to include('--chef-license')
    end

    it 'adds --chef-license accept when asked' do
      expect(described_class.chef_client_args(settings.merge(accept_chef_license: true))).to include('--chef-license', 'accept')
    end

    it 'appends extra options in order' do
      args = described_class.chef_client_args(settings.merge(chef_client_options: ['-l', 'warn']))
      expect(args.last(2)).to eq(['-l', 'warn'])
    end

    it 'leaves out --config when the config file is nil' do
      expect(described_class.chef_client_args(settings.merge(config_file: nil))).not_to include('--config')
    end
  end

  describe '.command' do
    it 'round-trips through the shell' do
      expect(shell_words(described_class.command(settings))).to eq(described_class.runner_args(settings))
    end

    it 'quotes an option with spaces and shell characters' do
      options = ['-o', 'recipe[base]; rm -rf /', '--named-run-list', "it's"]
      args = shell_words(described_class.command(settings.merge(chef_client_options: options)))
      expect(args.last(4)).to eq(options)
    end

    it 'escapes every percent sign for cron' do
      command = described_class.command(settings.merge(environment: { 'LABEL' => '100%' }))
      expect(command.scan(/(?<!\\)%/)).to be_empty
    end

    it 'keeps the percent sign in the value the runner gets' do
      command = described_class.command(settings.merge(environment: { 'LABEL' => '100%' }))
      expect(shell_words(command)).to include('LABEL=100%')
    end

    it 'prefixes nice when a niceness is set' do
      expect(shell_words(described_class.command(settings.merge(nice: 10))).first(3)).to eq(%w(nice -n 10))
    end

    it 'rejects a line break in any argument' do
      expect { described_class.command(settings.merge(chef_client_options: ["a\nb"])) }
        .to raise_error(ArgumentError, /line break/)
    end
  end

  describe 'JOB_NAME' do
    %w(chef_cron chef-cron Chef01).each do |name|
      it "accepts #{name}" do
        expect(name).to match(described_class::JOB_NAME)
      end
    end

    ['chef.cron', 'chef cron', 'chef/cron', ''].each do |name|
      it "rejects #{name.inspect}" do
        expect(name).not_to match(described_class::JOB_NAME)
      end
    end
  end
end
