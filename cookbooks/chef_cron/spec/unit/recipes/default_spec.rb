# frozen_string_literal: true

require_relative '../../spec_helper'

describe 'chef_cron::default' do
  context 'with no attributes' do
    let(:chef_run) { ChefSpec::SoloRunner.new.converge(described_recipe) }

    it { is_expected.to add_chef_cron('chef_cron').with(interval: 30, delay_mode: 'hash', timeout: 3600) }
  end

  context 'with attributes' do
    let(:chef_run) do
      ChefSpec::SoloRunner.new do |node|
        node.override['chef_cron']['interval'] = 15
        node.override['chef_cron']['schedule_key'] = 'web-001'
        node.override['chef_cron']['chef_client_options'] = ['-l', 'warn']
      end.converge(described_recipe)
    end

    it { is_expected.to add_chef_cron('chef_cron').with(interval: 15, schedule_key: 'web-001', chef_client_options: ['-l', 'warn']) }
  end

  context 'with action remove' do
    let(:chef_run) do
      ChefSpec::SoloRunner.new { |node| node.override['chef_cron']['action'] = 'remove' }.converge(described_recipe)
    end

    it { is_expected.to remove_chef_cron('chef_cron') }
  end
end

describe 'chef_cron::remove' do
  let(:chef_run) { ChefSpec::SoloRunner.new.converge(described_recipe) }

  it { is_expected.to remove_chef_cron('chef_cron') }
end
