# The README's property table, the resource and the attributes must name the
# same properties, so that the documentation cannot drift from the code.

cookbook_root = File.expand_path('../..', __dir__)

RSpec.describe 'README property table' do
  resource_properties = File.read(File.join(cookbook_root, 'resources/cron.rb'))
                            .scan(/^property :(\w+)/).flatten
  readme_properties = File.read(File.join(cookbook_root, 'README.md'))
                          .scan(/^\| `(\w+)` \|/).flatten
  attribute_names = File.read(File.join(cookbook_root, 'attributes/default.rb'))
                        .scan(/^default\['chef_cron'\]\['(\w+)'\]/).flatten

  it 'lists every resource property, in the same order' do
    expect(readme_properties).to eq(resource_properties)
  end

  it 'has an attribute for every property, plus the action' do
    expect(attribute_names.sort).to eq((resource_properties + ['action']).sort)
  end

  it 'has the recipe set every property from the attribute of the same name' do
    mapped = File.read(File.join(cookbook_root, 'recipes/default.rb'))
                 .scan(/^  (\w+) settings\['(\w+)'\]/)
    expect(mapped.map(&:first)).to eq(mapped.map(&:last))
    # job_name is the resource's name, so the recipe passes it as the name.
    expect(mapped.map(&:first).sort).to eq((resource_properties - ['job_name'] + ['action']).sort)
  end

  it 'finds the properties at all' do
    expect(resource_properties.size).to be > 10
  end
end
