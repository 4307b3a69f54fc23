# frozen_string_literal: true

# Computes when a node runs chef-client within the cron interval.
#
# Hash mode (digest "sha256-golden-v1") splits the node name into a stem and
# a number. The number is the last run of ASCII digits in the host label, the
# part before the first ".". The stem is the name with that run replaced by
# "#". The stem's SHA-256 picks a starting point on a circle of 2^64
# positions, and the number steps from there by floor(2^64 / golden ratio).
# So web-001 to web-100 lie on a shifted golden-ratio sequence, which by the
# three-gap theorem leaves at most three distinct gap lengths between
# neighbours, close to evenly spaced. Different stems are shifted against
# each other by their hashes. A name without digits gets number 0, so its
# position is a plain hash of the name and it is placed as a uniformly random
# offset would be, no better.
#
# The result is deterministic and needs no knowledge of other nodes.
# docs/schedule.md states the algorithm exactly, with worked examples.
#
# Plain Ruby with no Chef constants, so RSpec, the bench and the test vector
# generator can load it with `ruby` alone. helper/chef_cron/schedule.py
# implements hash mode again in Python, and
# spec/fixtures/schedule_vectors.json keeps the two in step.

require 'digest'

module ChefCron
  module Schedule
    # Name and version of the node-name-to-offset mapping. Every node of a
    # fleet computes its own slot, so a change to the mapping would move every
    # node at once on its next converge. Any change that moves a node therefore
    # needs a new version here and in the Python preview.
    DIGEST = 'sha256-golden-v1'

    # floor(2^64 / golden ratio). By the three-gap theorem, n consecutive
    # multiples of any step split the circle into gaps of at most three
    # lengths. With this step the longest of them is at most about 2.62 times
    # the shortest for every n, so a stem's numbers stay close to evenly spaced.
    GOLDEN_STEP = 0x9E3779B97F4A7C15

    # Positions and the golden step live on a circle of 2^64 points.
    POSITION_MODULUS = 1 << 64

    # 10^64 = 2^64 * 5^64 is a multiple of 2^64, so a decimal number modulo
    # 2^64 depends only on its last 64 digits.
    SIGNIFICANT_DIGITS = 64

    # Interval lengths in minutes. Only divisors of 60 repeat on the same
    # minutes every hour, which a single cron minute field can express.
    ALLOWED_INTERVALS = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60].freeze

    DEFAULT_INTERVAL = 30

    module_function

    # Returns the cron minute field and the sleep after cron fires that place
    # +name+ at its hash-mode offset, e.g. { minute: "13,43", delay: 37 }.
    #
    # +minute+ is a String because Chef's cron resources compare the field
    # as a string, and an Integer would show a change on every run.
    # Raises ArgumentError on an invalid name or interval.
    def compute(name, interval: DEFAULT_INTERVAL)
      cron_fields(offset(name, interval: interval), interval)
    end

    # Returns the seconds from the start of the interval at which +name+ runs,
    # in 0...(interval * 60).
    #
    # A multiply-high scales the circle of positions down to the interval,
    # so a stem's evenly spaced positions stay evenly spaced in seconds. A
    # modulo would keep only the low bits, which lose that spacing.
    def offset(name, interval: DEFAULT_INTERVAL)
      validate_interval(interval)
      (position(name) * interval * 60) >> 64
    end

    # Returns the hash-mode position of +name+ on the circle of 2^64 points:
    # (digest_key(stem) + number * GOLDEN_STEP) mod 2^64.
    #
    # The name is used exactly as given: "Web-01", "web-01" and "web-01 "
    # have different stems, and renaming a node moves it.
    # NOTE: numbers in steps of a Fibonacci number (89, 144, 233, ...) land
    # close together, because that step times GOLDEN_STEP is close to a
    # multiple of 2^64. web-144, web-288, ..., web-14400 use only 10 of 30
    # cron minutes.
    def position(name)
      stem, number = split_name(name)
      (digest_key(stem) + (number * GOLDEN_STEP)) % POSITION_MODULUS
    end

    # Returns [stem, number] for +name+. The number is the last run of ASCII
    # digits in the host label, the part of the name before the first ".",
    # read as a decimal Integer modulo 2^64, the only part of it that the
    # position uses. The stem is the name with that run replaced by "#". A
    # host label without digits gives [name, 0].
    #
    #   split_name("web-001.example.com") # => ["web-#.example.com", 1]
    #   split_name("ip-10-1-2-3.ec2.internal") # => ["ip-10-1-2-#.ec2.internal", 3]
    def split_name(name)
      utf8 = utf8_name(name)
      host_label = utf8[0, utf8.index('.') || utf8.length]
      last_run = nil
      # scan instead of a single regex with a lookahead keeps this linear in
      # the length of the name.
      host_label.scan(/[0-9]+/) { last_run = Regexp.last_match }
      return [utf8, 0] unless last_run

      stem = utf8[0, last_run.begin(0)] + '#' + utf8[last_run.end(0)..]
      digits = last_run.to_s
      digits = digits[-SIGNIFICANT_DIGITS..] if digits.length > SIGNIFICANT_DIGITS
      [stem, digits.to_i % POSITION_MODULUS]
    end

    # Like compute, but spreads the given +peers+ evenly over the interval.
    #
    # Peers are ranked by digest key, with ties broken by name, and the node
    # of rank k runs at floor(k * interval * 60 / N). Duplicate peer names
    # count once. When +name+ is not among the peers, or peers is empty, this
    # returns compute(name, interval: interval).
    def coordinated(name, peers, interval: DEFAULT_INTERVAL)
      validate_interval(interval)
      own_name = utf8_name(name)
      offsets = coordinated_offsets(peers, interval: interval)
      return compute(name, interval: interval) unless offsets.key?(own_name)

      cron_fields(offsets[own_name], interval)
    end

    # Returns a Hash from each unique peer name, as a UTF-8 String, to its
    # coordinated offset in seconds. Computing all peers in one call keeps
    # the bench at O(N log N).
    def coordinated_offsets(peers, interval: DEFAULT_INTERVAL)
      validate_interval(interval)
      unless peers.respond_to?(:each)
        raise ArgumentError,
              "chef_cron: peers #{peers.inspect} is invalid. " \
              'Pass an Array of node names.'
      end

      names = peers.map { |peer| utf8_name(peer, 'peer name') }.uniq
      # Strings of valid UTF-8 sort by bytes, which is also code point order.
      ranked = names.sort_by { |peer| [digest_key(peer), peer] }
      span = interval * 60
      count = ranked.size
      ranked.each_with_index.to_h { |peer, rank| [peer, rank * span / count] }
    end

    # Returns the first 8 bytes of SHA-256 over the UTF-8 bytes of +name+ as
    # a big-endian unsigned 64-bit Integer. Hash mode applies it to the stem,
    # and coordinated mode ranks peers by it over the whole name.
    def digest_key(name)
      Digest::SHA256.digest(utf8_name(name)).byteslice(0, 8).unpack1('Q>')
    end

    # Returns the cron minute field and delay for an offset in seconds.
    def cron_fields(offset, interval)
      first_minute, delay = offset.divmod(60)
      minutes = first_minute.step(59, interval).to_a
      { minute: minutes.join(','), delay: delay }
    end

    def validate_interval(interval)
      return if interval.is_a?(Integer) && ALLOWED_INTERVALS.include?(interval)

      raise ArgumentError,
            "chef_cron: interval #{interval.inspect} is invalid. " \
            "Use a number of minutes that divides 60: #{ALLOWED_INTERVALS.join(', ')}"
    end

    # Returns +name+ as a UTF-8 String, raising ArgumentError unless it is a
    # non-empty String that is or converts to valid UTF-8. A String tagged as
    # binary (ASCII-8BIT) or US-ASCII is read as UTF-8 bytes. A String in
    # another encoding, e.g. ISO-8859-1, is transcoded to UTF-8.
    def utf8_name(name, label = 'node name')
      unless name.is_a?(String)
        raise ArgumentError,
              "chef_cron: #{label} #{name.inspect} is invalid because its type is " \
              "#{name.class}, not String"
      end
      raise ArgumentError, "chef_cron: #{label} is empty. Pass the Chef node name." if name.empty?

      utf8 = transcode_to_utf8(name)
      return utf8 if utf8

      raise ArgumentError,
            "chef_cron: #{label} #{name.b.inspect} is invalid because it is not valid UTF-8"
    end

    # Returns the name as a UTF-8 String, or nil when it cannot be one.
    def transcode_to_utf8(name)
      case name.encoding
      when Encoding::UTF_8, Encoding::US_ASCII, Encoding::ASCII_8BIT
        utf8 = name.dup.force_encoding(Encoding::UTF_8)
        utf8.valid_encoding? ? utf8 : nil
      else
        name.valid_encoding? ? name.encode(Encoding::UTF_8) : nil
      end
    rescue EncodingError
      nil
    end

    private_class_method :cron_fields, :validate_interval, :utf8_name, :transcode_to_utf8
  end
end
