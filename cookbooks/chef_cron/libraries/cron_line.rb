require 'shellwords'

module ChefCron
  # Builds the command that cron runs. Plain Ruby, so RSpec can load it
  # without Chef.
  module CronLine
    # Debian's cron runs a file in /etc/cron.d only when its name is made of
    # letters, digits, underscores and hyphens. It skips any other name silently.
    JOB_NAME = /\A[A-Za-z0-9_-]+\z/.freeze

    # Environment variable names that cron and the runner both accept.
    ENV_NAME = /\A[A-Za-z_][A-Za-z0-9_]*\z/.freeze

    # Search path of the cron file. It includes the sbin directories, as the
    # runner's own fixed PATH for chef-client does, because chef-client's
    # providers call service, useradd and similar tools by name.
    DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'.freeze

    module_function

    # True when +text+ has no line break or other control character, which
    # would let a value start a new line, and so a new job, in the cron file.
    def one_line?(text)
      !text.match?(/[[:cntrl:]]/)
    end

    def absolute_path?(text)
      text.start_with?('/') && one_line?(text)
    end

    # logrotate reads its file names unquoted and expands globs in them, so
    # the log file is limited to characters that mean nothing to it.
    # The runner runs chef-client --once itself and rejects these options.
    def daemon_option?(option)
      %w(-d --daemonize -i --interval).include?(option) || option.start_with?('--daemonize=', '--interval=')
    end

    def plain_path?(text)
      text.match?(%r{\A/[A-Za-z0-9._/-]+\z})
    end

    # Returns the runner's argument vector for the given settings. Keys that
    # are nil are left out, so the runner's own default applies.
    def runner_args(settings)
      args = [settings.fetch(:runner_path), 'run']
      {
        delay: '--delay',
        splay: '--splay',
        timeout: '--timeout',
        lock_file: '--lock-file',
        firstboot_file: '--firstboot-file',
        log_file: '--log-file',
        status_file: '--status-file',
        textfile_dir: '--textfile-dir',
        rss_warn_mb: '--rss-warn-mb',
        chef_client_path: '--chef-client',
      }.each do |key, flag|
        value = settings[key]
        args.push(flag, value.to_s) unless value.nil?
      end
      (settings[:environment] || {}).sort.each do |name, value|
        args.push('--setenv', "#{name}=#{value}")
      end

      args << '--'
      args.concat(chef_client_args(settings))
      args
    end

    # Returns chef-client's arguments; the runner adds --once itself.
    def chef_client_args(settings)
      args = []
      args.push('--config', settings[:config_file]) if settings[:config_file]
      args.push('--chef-license', 'accept') if settings[:accept_chef_license]
      args.concat(Array(settings[:chef_client_options]).map(&:to_s))
      args
    end

    # Returns the shell command for the cron line. Cron hands the command to
    # /bin/sh, and an unescaped percent sign would end it at that point, so
    # every argument is quoted for the shell and every % is escaped for cron.
    def command(settings)
      words = runner_args(settings)
      # A newline would end the cron line there, and quoting cannot stop that.
      broken = words.find { |word| word.match?(/[\r\n]/) }
      raise ArgumentError, "chef_cron: #{broken.inspect} contains a line break, which a cron line cannot carry" if broken

      words = ['nice', '-n', settings[:nice].to_s] + words unless settings[:nice].nil?
      Shellwords.join(words).gsub('%', '\%')
    end
  end
end
