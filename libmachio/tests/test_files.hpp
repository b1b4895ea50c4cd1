// A scratch file standing in for a block device in the fake-module tests.
#ifndef MACHIO_TESTS_TEST_FILES_HPP
#define MACHIO_TESTS_TEST_FILES_HPP

#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace test {

class scratch_file {
  public:
    explicit scratch_file(off_t size = 1 << 20) {
        const char* dir = std::getenv("TMPDIR");
        path_ = std::string(dir && *dir ? dir : "/tmp") + "/machio-test-XXXXXX";
        int fd = ::mkstemp(path_.data());
        if (fd < 0) {
            path_.clear();
            return;
        }
        if (::ftruncate(fd, size) != 0)
            path_.clear();
        ::close(fd);
        // The library opens devices O_DIRECT; not every file system can.
        int probe = ::open(path_.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
        direct_io_ = probe >= 0;
        if (probe >= 0)
            ::close(probe);
    }
    ~scratch_file() {
        if (!path_.empty())
            ::unlink(path_.c_str());
    }
    scratch_file(const scratch_file&) = delete;
    scratch_file& operator=(const scratch_file&) = delete;

    const std::string& path() const { return path_; }
    bool direct_io() const { return direct_io_; }

  private:
    std::string path_;
    bool direct_io_ = false;
};

} // namespace test

#endif // MACHIO_TESTS_TEST_FILES_HPP
