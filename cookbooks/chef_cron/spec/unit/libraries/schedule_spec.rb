# frozen_string_literal: true

# Plain RSpec, no ChefSpec: the schedule library must load without Chef.
# Run from the repository root with `rspec cookbooks/chef_cron/spec/unit/libraries`
# or from cookbooks/chef_cron with `rspec spec/unit/libraries`.

require 'json'
require 'open3'
require 'rbconfig'

library_path = File.expand_path('../../../libraries/schedule.rb', __dir__)
vectors_path = File.expand_path('../../fixtures/schedule_vectors.json', __dir__)

require library_path

RSpec.describe ChefCron::Schedule do
  allowed = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60]
  sample_names = ['web-01', 'Web-01', 'db-7.example.com', 'nœud-ü', 'サーバー', '🚀', 'x' * 1500]

  describe 'constants' do
    it 'names the digest and its version' do
      expect(described_class::DIGEST).to eq('sha256-golden-v1')
    end

    # Integer.sqrt(5 << 128) is floor(sqrt(5) * 2^64), and 2^64 / golden ratio
    # is (sqrt(5) - 1) / 2 * 2^64. bc gives 11400714819323198485.95...
    it 'steps by floor(2^64 / golden ratio)' do
      expect(described_class::GOLDEN_STEP).to eq((Integer.sqrt(5 << 128) - (1 << 64)) / 2)
      expect(described_class::GOLDEN_STEP).to eq(11_400_714_819_323_198_485)
    end

    it 'allows exactly the divisors of 60' do
      expect(described_class::ALLOWED_INTERVALS).to eq(allowed)
    end
  end

  # Expected values derived outside the library: digest prefixes from the
  # published SHA-256 test vectors ("abc" and the 448-bit message in
  # FIPS 180-2) and from `printf %s STEM | sha256sum`, and the arithmetic from
  # bc: position = (key + number * 11400714819323198485) % 2^64 and
  # offset = position * interval * 60 / 2^64, rounded down.
  describe 'hand-derived vectors' do
    two_block = 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'

    it 'reads the digest key as big-endian from the first 8 bytes' do
      expect(described_class.digest_key('abc')).to eq(0xba7816bf8f01cfea)
    end

    it 'matches the two-block SHA-256 test vector' do
      expect(described_class.digest_key(two_block)).to eq(0x248d6a61d20638b8)
    end

    it 'hashes the UTF-8 bytes of a non-ASCII name' do
      # "nœud-ü" is 6e c5 93 75 64 2d c3 bc in UTF-8.
      expect(described_class.digest_key('nœud-ü')).to eq(0x9a248206fe80fa75)
    end

    # No digits, so position = key = 13436514500253700074, and
    # 13436514500253700074 * 1800 / 2^64 = 1311 = 21 * 60 + 51
    it 'places abc at 21:51 in a 30-minute interval' do
      expect(described_class.compute('abc', interval: 30)).to eq(minute: '21,51', delay: 51)
    end

    # 2633878325449603256 * 300 / 2^64 = 42
    it 'places the two-block message at 0:42 in 5 minutes' do
      expected = { minute: '0,5,10,15,20,25,30,35,40,45,50,55', delay: 42 }
      expect(described_class.compute(two_block, interval: 5)).to eq(expected)
    end

    # 11107145547553766005 * 3600 / 2^64 = 2167 = 36 * 60 + 7
    it 'places nœud-ü at 36:07 in a 60-minute interval' do
      expect(described_class.compute('nœud-ü', interval: 60)).to eq(minute: '36', delay: 7)
    end

    # key("web-#") = 0x7a6082e8943d46e0 = 8818192005822498528, number 1:
    # position 1772162751436145397, offset 172 = 2 * 60 + 52
    it 'places web-001 at 2:52' do
      expect(described_class.position('web-001')).to eq(1_772_162_751_436_145_397)
      expect(described_class.compute('web-001', interval: 30)).to eq(minute: '2,32', delay: 52)
    end

    # Same stem, number 100: position 5191541368150146836, offset 506 = 8 * 60 + 26
    it 'places web-100 at 8:26' do
      expect(described_class.position('web-100')).to eq(5_191_541_368_150_146_836)
      expect(described_class.compute('web-100', interval: 30)).to eq(minute: '8,38', delay: 26)
    end

    # key("ip-10-1-2-#.ec2.internal") = 0xb91ebcd5ab1a5be5, number 3:
    # position 10647963082753167396, offset 1039 = 17 * 60 + 19
    it 'places ip-10-1-2-3.ec2.internal at 17:19' do
      name = 'ip-10-1-2-3.ec2.internal'
      expect(described_class.position(name)).to eq(10_647_963_082_753_167_396)
      expect(described_class.compute(name, interval: 30)).to eq(minute: '17,47', delay: 19)
    end

    # key("n-#") = 0x965a45de79bcc417, number 10^64 - 1 = 2^64 - 1 mod 2^64:
    # position 17880077929806972930, offset 1744 = 29 * 60 + 4
    it 'reduces a 64-digit number modulo 2^64' do
      name = "n-#{'9' * 64}"
      expect(described_class.position(name)).to eq(17_880_077_929_806_972_930)
      expect(described_class.compute(name, interval: 30)).to eq(minute: '29,59', delay: 4)
    end
  end

  describe '.split_name' do
    {
      'web-001' => ['web-#', 1],
      'web-001.example.com' => ['web-#.example.com', 1],
      'db-17.example.com' => ['db-#.example.com', 17],
      'ip-10-1-2-3.ec2.internal' => ['ip-10-1-2-#.ec2.internal', 3],
      'a1b22c' => ['a1b#c', 22],
      'web-0' => ['web-#', 0],
      '0042' => ['#', 42],
      'web' => ['web', 0],
      'web.dc1.example.com' => ['web.dc1.example.com', 0],
      '.web-1' => ['.web-1', 0],
      'nœud-ü7' => ['nœud-ü#', 7],
      'web-１２' => ['web-１２', 0],
      "n-#{'9' * 64}" => ['n-#', (1 << 64) - 1],
      "n-1#{'0' * 64}" => ['n-#', 0],
    }.each do |name, split|
      it "splits #{name[0, 30].inspect} into #{split.inspect}" do
        expect(described_class.split_name(name)).to eq(split)
      end
    end

    it 'reduces a 5000-digit number as an exact Integer would' do
      digits = '1234567890' * 500
      expect(described_class.split_name("node-#{digits}")).to eq(['node-#', Integer(digits, 10) % (1 << 64)])
    end

    it 'ignores leading zeros' do
      expect(described_class.compute('web-0001')).to eq(described_class.compute('web-1'))
    end

    it 'rejects an invalid name' do
      expect { described_class.split_name('') }.to raise_error(ArgumentError, /node name is empty/)
    end
  end

  describe 'golden-ratio spread' do
    span = 30 * 60

    def offsets(names, interval = 30)
      names.map { |name| described_class.offset(name, interval: interval) }
    end

    it 'uses every minute with 100 sequential names' do
      minutes = offsets((1..100).map { |i| format('web-%03d', i) }).map { |offset| offset / 60 }
      expect(minutes.uniq.size).to eq(30)
    end

    [101, 9_901, 123_456].each do |first|
      it "uses every minute with 100 names from node-#{first}" do
        minutes = offsets((first...first + 100).map { |i| "node-#{i}" }).map { |offset| offset / 60 }
        expect(minutes.uniq.size).to eq(30)
      end
    end

    # GOLDEN_STEP / 2^64 * 1800 = 1112.46 s, so each next number runs about
    # 1112 s later, modulo the interval.
    it 'moves each next number about 0.618 of the interval on' do
      sequence = offsets((1..100).map { |i| format('web-%03d', i) })
      steps = sequence.each_cons(2).map { |a, b| (b - a) % span }
      expect(steps.uniq.sort).to eq([1112, 1113])
    end

    it 'differs from a plain hash of each name' do
      names = (1..100).map { |i| format('web-%03d', i) }
      plain = names.map { |name| (described_class.digest_key(name) * span) >> 64 }
      expect(offsets(names).zip(plain).count { |golden, hashed| golden == hashed }).to be < 5
    end

    [2, 10, 89, 100, 1000].each do |count|
      it "leaves at most three gap lengths between #{count} positions" do
        positions = (1..count).map { |i| described_class.position("web-#{i}") }.sort
        gaps = positions.each_cons(2).map { |a, b| b - a } + [positions.first + (1 << 64) - positions.last]
        expect(gaps.min).to be_positive
        expect(gaps.uniq.size).to be <= 3
        expect(gaps.max.fdiv(gaps.min)).to be <= 2.62
      end
    end

    it 'places a name without digits by a plain hash' do
      %w(abc web db.example.com web.dc1.example.com).each do |name|
        expect(described_class.offset(name)).to eq((described_class.digest_key(name) * span) >> 64)
      end
    end

    it 'shifts different stems against each other' do
      expect(described_class.offset('db-001')).not_to eq(described_class.offset('web-001'))
    end
  end

  describe 'test vectors' do
    document = JSON.parse(File.read(vectors_path, encoding: Encoding::UTF_8))
    vectors = document.fetch('vectors')

    it 'were made with the current digest' do
      expect(document.fetch('digest')).to eq(described_class::DIGEST)
    end

    it 'number at least 200' do
      expect(vectors.size).to be >= 200
    end

    it 'cover every allowed interval' do
      expect(vectors.map { |v| v['interval'] }.uniq.sort).to eq(allowed)
    end

    vectors.each do |vector|
      name = vector.fetch('name')
      interval = vector.fetch('interval')
      label = name.length > 40 ? "#{name[0, 20]}... (#{name.length} chars)" : name

      it "match compute(#{label.inspect}, interval: #{interval})" do
        expected = { minute: vector.fetch('minute'), delay: vector.fetch('delay') }
        expect(described_class.compute(name, interval: interval)).to eq(expected)
      end

      it "match offset(#{label.inspect}, interval: #{interval})" do
        expect(described_class.offset(name, interval: interval)).to eq(vector.fetch('offset'))
      end

      it "match split_name and position(#{label.inspect})" do
        expect(described_class.split_name(name)).to eq([vector.fetch('stem'), vector.fetch('number')])
        expect(described_class.position(name)).to eq(vector.fetch('position'))
      end
    end
  end

  describe 'interval validation' do
    [0, -30, 7, 45, 90, 120, 30.0, 1.5, '30', nil, true, :thirty].each do |interval|
      it "rejects #{interval.inspect}" do
        message = "chef_cron: interval #{interval.inspect} is invalid. " \
                  'Use a number of minutes that divides 60: 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60'
        expect { described_class.compute('web-01', interval: interval) }
          .to raise_error(ArgumentError, message)
      end
    end

    it 'defaults to 30 minutes' do
      expect(described_class.compute('web-01')).to eq(described_class.compute('web-01', interval: 30))
    end
  end

  describe 'name validation' do
    {
      nil => /node name nil is invalid because its type is NilClass, not String/,
      42 => /node name 42 is invalid because its type is Integer, not String/,
      :"web-01" => /node name :"web-01" is invalid because its type is Symbol/,
      '' => /node name is empty/,
      "web-\xff".b => /node name "web-\\xFF" is invalid because it is not valid UTF-8/,
      "web-\xc3".dup.force_encoding(Encoding::UTF_8) => /not valid UTF-8/,
    }.each do |name, message|
      it "rejects #{name.inspect}" do
        expect { described_class.compute(name) }.to raise_error(ArgumentError, message)
      end
    end

    it 'starts every message with chef_cron:' do
      expect { described_class.compute('') }.to raise_error(ArgumentError, /\Achef_cron: /)
    end

    it 'keeps case, so Web-01 and web-01 differ' do
      expect(described_class.offset('Web-01')).not_to eq(described_class.offset('web-01'))
    end

    it 'does not trim whitespace' do
      expect(described_class.offset('web-01 ')).not_to eq(described_class.offset('web-01'))
    end

    it 'keeps the domain, so FQDN and short name differ' do
      expect(described_class.offset('web-01.example.com')).not_to eq(described_class.offset('web-01'))
    end

    it 'does not normalize Unicode' do
      expect(described_class.offset("e\u0301")).not_to eq(described_class.offset("\u00e9"))
    end

    it 'reads a binary String as UTF-8 bytes' do
      expect(described_class.offset('nœud-ü'.b)).to eq(described_class.offset('nœud-ü'))
    end

    it 'transcodes a String in another encoding' do
      latin1 = 'café'.encode(Encoding::ISO_8859_1)
      expect(described_class.offset(latin1)).to eq(described_class.offset('café'))
    end
  end

  describe 'minute field' do
    allowed.each do |interval|
      sample_names.each do |name|
        context "for #{name[0, 20].inspect} every #{interval} minutes" do
          subject(:schedule) { described_class.compute(name, interval: interval) }

          let(:minutes) { schedule[:minute].split(',').map { |m| Integer(m, 10) } }

          it 'is a comma-separated String of numbers' do
            expect(schedule[:minute]).to match(/\A\d+(,\d+)*\z/)
          end

          it 'has one minute per run in the hour' do
            expect(minutes.size).to eq(60 / interval)
          end

          it 'starts within the first interval' do
            expect(minutes.first).to be < interval
          end

          it 'steps by the interval' do
            expect(minutes.each_cons(2).map { |a, b| b - a }.uniq).to eq(60 / interval > 1 ? [interval] : [])
          end

          it 'has a delay of 0 to 59 seconds' do
            expect(schedule[:delay]).to be_an(Integer).and be_between(0, 59)
          end

          it 'encodes the offset with the delay' do
            offset = described_class.offset(name, interval: interval)
            expect(minutes.first * 60 + schedule[:delay]).to eq(offset)
          end
        end
      end
    end
  end

  describe '.coordinated' do
    def sorted_offsets(peers, interval)
      described_class.coordinated_offsets(peers, interval: interval).values.sort
    end

    # Gaps between neighbours, including the one that wraps past the end.
    def circular_gaps(offsets, span)
      offsets.each_cons(2).map { |a, b| b - a } + [offsets.first + span - offsets.last]
    end

    [[1, 30], [2, 30], [7, 30], [100, 30], [1000, 30], [1800, 30], [2500, 30], [333, 5], [61, 1]]
      .each do |count, interval|
        it "spaces #{count} peers evenly over #{interval} minutes" do
          span = interval * 60
          peers = (1..count).map { |i| format('node-%05d', i) }
          gaps = circular_gaps(sorted_offsets(peers, interval), span)
          exact = span.fdiv(count)
          expect(gaps).to all(be_between(exact.floor, exact.ceil))
        end
      end

    # sha256sum digest prefixes: d 18ac3e73..., c 2e7d2c03..., b 3e23e816...,
    # a ca978112..., so the ranks are d, c, b, a.
    it 'ranks peers by digest key' do
      expect(described_class.coordinated_offsets(%w(a b c d), interval: 30))
        .to eq('d' => 0, 'c' => 450, 'b' => 900, 'a' => 1350)
    end

    # floor(k * 1800 / 7) for k = 0..6
    it 'rounds offsets down' do
      peers = (1..7).map { |i| "web-#{i}" }
      expect(sorted_offsets(peers, 30)).to eq([0, 257, 514, 771, 1028, 1285, 1542])
    end

    it 'gives the lowest digest key offset 0' do
      peers = (1..50).map { |i| "web-#{i}" }
      first = peers.min_by { |peer| described_class.digest_key(peer) }
      expect(described_class.coordinated(first, peers)).to eq(minute: '0,30', delay: 0)
    end

    it "returns the minute and delay of the node's coordinated offset" do
      peers = %w(a b c d)
      offsets = described_class.coordinated_offsets(peers, interval: 30)
      offsets.each do |peer, offset|
        expected = { minute: "#{offset / 60},#{offset / 60 + 30}", delay: offset % 60 }
        expect(described_class.coordinated(peer, peers)).to eq(expected)
      end
    end

    it 'does not depend on peer order' do
      peers = (1..200).map { |i| "db-#{i}" }
      expect(described_class.coordinated_offsets(peers.shuffle(random: Random.new(7))))
        .to eq(described_class.coordinated_offsets(peers))
    end

    it 'counts a duplicate peer once' do
      peers = %w(a b c d)
      expect(described_class.coordinated_offsets(peers + %w(b c)))
        .to eq(described_class.coordinated_offsets(peers))
    end

    it 'falls back to hash mode when the node is not a peer' do
      expect(described_class.coordinated('web-99', %w(web-01 web-02), interval: 15))
        .to eq(described_class.compute('web-99', interval: 15))
    end

    it 'falls back to hash mode when peers is empty' do
      expect(described_class.coordinated('web-99', [], interval: 10))
        .to eq(described_class.compute('web-99', interval: 10))
    end

    it 'rejects a peer that is not a String' do
      expect { described_class.coordinated('web-01', ['web-01', nil]) }
        .to raise_error(ArgumentError, /peer name nil is invalid/)
    end

    it 'rejects peers that are not a collection' do
      expect { described_class.coordinated('web-01', nil) }
        .to raise_error(ArgumentError, /peers nil is invalid/)
    end

    it 'rejects an invalid interval' do
      expect { described_class.coordinated('web-01', %w(web-01), interval: 45) }
        .to raise_error(ArgumentError, /interval 45 is invalid/)
    end
  end

  describe 'across processes' do
    # Ruby seeds String#hash per process, so this guards against a digest
    # that only looks stable inside one run.
    it 'computes the same schedules in a new ruby process' do
      script = <<~RUBY
        require #{library_path.inspect}
        STDIN.read.split("\\n").each do |name|
          s = ChefCron::Schedule.compute(name)
          puts [s[:minute], s[:delay]].join(" ")
        end
      RUBY
      output, status = Open3.capture2(RbConfig.ruby, '-e', script, stdin_data: sample_names.join("\n"))
      expect(status).to be_success
      expected = sample_names.map { |name| described_class.compute(name).values_at(:minute, :delay).join(' ') }
      expect(output.split("\n")).to eq(expected)
    end

    it 'loads without Chef' do
      output, status = Open3.capture2(RbConfig.ruby, '-e', "require #{library_path.inspect}; p defined?(Chef)")
      expect(status).to be_success
      expect(output.strip).to eq('nil')
    end
  end
end
