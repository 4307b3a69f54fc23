# frozen_string_literal: true

# ChefSpec setup for the resource and recipe specs. The library specs load
# without it, because the libraries must not need Chef.
require 'chefspec'

RSpec.configure do |config|
  config.platform = 'debian'
  config.version = '12'
end
