// std::error_code integration: categories, messages, equivalences, result<T>.
#include <machio/machio.hpp>

#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <system_error>

namespace {

using machio::device_category;
using machio::device_errc;
using machio::kern_category;
using machio::kern_errc;

static_assert(std::is_error_code_enum_v<kern_errc>);
static_assert(std::is_error_code_enum_v<device_errc>);

TEST(ErrorCategory, MessageCodesHaveTheirWords) {
    EXPECT_EQ(machio::to_error_code(MACH_SEND_TIMED_OUT).message(), "(ipc/send) timed out");
    EXPECT_EQ(machio::to_error_code(MACH_RCV_PORT_DIED).message(), "(ipc/rcv) port died");
    EXPECT_EQ(machio::to_error_code(NETNAME_NOT_YOURS).message(), "(netname) name is not yours");
}

TEST(ErrorCategory, Names) {
    EXPECT_STREQ(kern_category().name(), "mach.kern");
    EXPECT_STREQ(device_category().name(), "mach.device");
    EXPECT_NE(&kern_category(), &device_category());
    EXPECT_EQ(&kern_category(), &kern_category());
}

TEST(ErrorCategory, MessagesAreMachErrorStrings) {
    for (int code = KERN_INVALID_ADDRESS; code <= KERN_OPERATION_TIMED_OUT; ++code)
        EXPECT_EQ(kern_category().message(code), mach_error_string(code)) << code;
    for (int code = D_IO_ERROR; code <= D_NOT_CLONED; ++code)
        EXPECT_EQ(device_category().message(code), mach_error_string(code)) << code;
}

TEST(ErrorCategory, UnknownCodesAreFormatted) {
    EXPECT_EQ(kern_category().message(77), "(os/kern) unknown kern_return_t 77 (0x4d)");
    EXPECT_EQ(kern_category().message(D_IO_ERROR), "(os/kern) unknown kern_return_t 2500 (0x9c4)");
    EXPECT_EQ(device_category().message(3000), "(device) unknown io_return_t 3000");
}

TEST(ErrorCode, MakeErrorCode) {
    std::error_code ec = kern_errc::terminated;
    EXPECT_EQ(ec.value(), KERN_TERMINATED);
    EXPECT_EQ(&ec.category(), &kern_category());
    EXPECT_EQ(ec.message(), "(os/kern) object terminated");
    EXPECT_TRUE(ec);

    std::error_code dc = device_errc::read_only;
    EXPECT_EQ(dc.value(), D_READ_ONLY);
    EXPECT_EQ(&dc.category(), &device_category());
    EXPECT_EQ(dc, device_errc::read_only);
    EXPECT_NE(dc, kern_errc::invalid_argument);
}

TEST(ErrorCode, EnumValuesAreMachValues) {
    EXPECT_EQ(static_cast<int>(kern_errc::invalid_address), 1);
    EXPECT_EQ(static_cast<int>(kern_errc::failure), 5);
    EXPECT_EQ(static_cast<int>(kern_errc::no_thread), 46);
    EXPECT_EQ(static_cast<int>(kern_errc::operation_timed_out), 49);
    EXPECT_EQ(static_cast<int>(device_errc::io_error), 2500);
    EXPECT_EQ(static_cast<int>(device_errc::not_cloned), 2511);
}

TEST(ErrorCode, ToErrorCodePicksTheCategory) {
    EXPECT_FALSE(machio::to_error_code(KERN_SUCCESS));
    EXPECT_EQ(machio::to_error_code(KERN_ABORTED), kern_errc::aborted);
    EXPECT_EQ(machio::to_error_code(D_WOULD_BLOCK), device_errc::would_block);
    EXPECT_EQ(&machio::to_error_code(D_IO_QUEUED).category(), &device_category());
    EXPECT_EQ(&machio::to_error_code(2499).category(), &kern_category());
    EXPECT_EQ(&machio::to_error_code(2512).category(), &kern_category());
    EXPECT_EQ(&machio::to_error_code(0x10000007).category(), &kern_category());
}

TEST(ErrorCode, EquivalentToGenericConditions) {
    EXPECT_EQ(std::error_code(kern_errc::invalid_argument), std::errc::invalid_argument);
    EXPECT_EQ(std::error_code(kern_errc::invalid_address), std::errc::bad_address);
    EXPECT_EQ(std::error_code(kern_errc::resource_shortage), std::errc::not_enough_memory);
    EXPECT_EQ(std::error_code(kern_errc::aborted), std::errc::interrupted);
    EXPECT_EQ(std::error_code(kern_errc::no_access), std::errc::permission_denied);
    EXPECT_EQ(std::error_code(kern_errc::operation_timed_out), std::errc::timed_out);
    EXPECT_EQ(std::error_code(kern_errc::terminated),
              std::error_condition(ESHUTDOWN, std::generic_category()));
    EXPECT_EQ(std::error_code(device_errc::io_error), std::errc::io_error);
    EXPECT_EQ(std::error_code(device_errc::would_block), std::errc::operation_would_block);
    EXPECT_EQ(std::error_code(device_errc::no_such_device), std::errc::no_such_device);
    EXPECT_EQ(std::error_code(device_errc::already_open), std::errc::device_or_resource_busy);
    EXPECT_EQ(std::error_code(device_errc::invalid_operation), std::errc::operation_not_supported);
    EXPECT_EQ(std::error_code(device_errc::invalid_size), std::errc::invalid_argument);
    EXPECT_EQ(std::error_code(device_errc::no_memory), std::errc::not_enough_memory);
    EXPECT_EQ(std::error_code(device_errc::read_only), std::errc::read_only_file_system);

    // And not to unrelated ones.
    EXPECT_NE(std::error_code(kern_errc::invalid_argument), std::errc::io_error);
    EXPECT_NE(std::error_code(device_errc::io_error), std::errc::invalid_argument);
    // Codes without a POSIX counterpart stay in their category.
    std::error_code ec = kern_errc::invalid_right;
    EXPECT_EQ(ec.default_error_condition().category(), kern_category());
    EXPECT_EQ(ec.default_error_condition().value(), KERN_INVALID_RIGHT);
}

TEST(ErrorCode, DistinctCategoriesDoNotCompareEqual) {
    // 4 in the kernel category is not 4 in the generic one (EINTR).
    EXPECT_NE(std::error_code(kern_errc::invalid_argument),
              std::error_code(EINTR, std::generic_category()));
    EXPECT_NE(std::error_code(kern_errc::failure), std::error_code(5, device_category()));
}

TEST(Result, HoldsValueOrError) {
    machio::result<int> ok = 42;
    ASSERT_TRUE(ok);
    EXPECT_TRUE(ok.has_value());
    EXPECT_EQ(*ok, 42);
    EXPECT_EQ(ok.value(), 42);
    EXPECT_FALSE(ok.error());

    machio::result<int> bad = kern_errc::terminated;
    EXPECT_FALSE(bad);
    EXPECT_EQ(bad.error(), kern_errc::terminated);
    EXPECT_EQ(bad.value_or(7), 7);
    EXPECT_THROW((void)bad.value(), std::system_error);
    try {
        (void)bad.value();
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), kern_errc::terminated);
    }

    machio::result<int> generic = std::make_error_code(std::errc::no_such_file_or_directory);
    EXPECT_EQ(generic.error(), std::errc::no_such_file_or_directory);
}

TEST(Result, MoveOnlyValues) {
    machio::result<std::unique_ptr<int>> r = std::make_unique<int>(5);
    ASSERT_TRUE(r);
    std::unique_ptr<int> p = std::move(r).value();
    EXPECT_EQ(*p, 5);
    machio::result<std::unique_ptr<int>> e = device_errc::io_error;
    EXPECT_EQ(e.error(), device_errc::io_error);
    static_assert(!std::is_copy_constructible_v<machio::result<std::unique_ptr<int>>>);
}

} // namespace
