// Portfolio's error layout, numbering and texts (<machio/portfolio.h>),
// checked against the values Opera's headers produce and the strings its
// kernel prints.
#include <machio/portfolio.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace {

std::string text(Err err, int32 size = 128) {
    char buf[128];
    std::memset(buf, 'x', sizeof(buf));
    int32 n = GetSysErr(buf, size, err);
    EXPECT_EQ(n, int32(std::strlen(buf)));
    return buf;
}

TEST(PortfolioErrors, ShortcutsHaveOperasValues) {
    EXPECT_EQ(uint32(BADITEM), 0xD57B9001u);
    EXPECT_EQ(BADITEM, -713322495);
    EXPECT_EQ(uint32(BADTAG), 0xD57B9002u);
    EXPECT_EQ(uint32(BADTAGVAL), 0xD57B9003u);
    EXPECT_EQ(uint32(BADPRIV), 0xD57B9004u);
    EXPECT_EQ(NOMEM, -713322490);
    EXPECT_EQ(uint32(BADSUBTYPE), 0xD57B9007u);
    EXPECT_EQ(uint32(BADPTR), 0xD57B9009u);
    EXPECT_EQ(ABORTED, -713322486);
    EXPECT_EQ(uint32(BADUNIT), 0xD57B900Bu);
    EXPECT_EQ(uint32(BADCOMMAND), 0xD57B900Cu);
    EXPECT_EQ(uint32(BADIOARG), 0xD57B900Du);
    EXPECT_EQ(uint32(BADNAME), 0xD57B900Eu);
    EXPECT_EQ(uint32(MakeKErr(ER_SEVERE, ER_C_STND, ER_IONotDone)), 0xD57B900Fu);
    EXPECT_EQ(uint32(NOSUPPORT), 0xD57B9010u);
    EXPECT_EQ(uint32(IOINCOMPLETE), 0xD57B9011u);
    EXPECT_EQ(uint32(NOTOWNER), 0xD57B9012u);
    EXPECT_EQ(MakeKErr(ER_SEVERE, ER_C_NSTND, ER_Kr_ItemNotOpen), -713322235);
    EXPECT_EQ(uint32(MakeKErr(ER_SEVERE, ER_C_NSTND, ER_Kr_MsgSent)), 0xD57B9109u);
    EXPECT_EQ(uint32(BADSIZE), 0xD57B910Bu);
    EXPECT_EQ(uint32(ILLEGALSIGNAL), 0xD57B9116u);
    EXPECT_EQ(uint32(KILLED), 0xD57B911Du);
    EXPECT_EQ(uint32(MAKEKERR(ER_KYAGB, ER_C_NSTND, ER_Kr_RsrcTblOvfFlw)), 0xD57B9903u);
    EXPECT_EQ(ER_FATAL, ER_KYAGB);
}

TEST(PortfolioErrors, FieldsAndSixBitCharacters) {
    EXPECT_EQ(Make6Bit('0'), 1);
    EXPECT_EQ(Make6Bit('9'), 10);
    EXPECT_EQ(Make6Bit('a'), 11);
    EXPECT_EQ(Make6Bit('z'), 36);
    EXPECT_EQ(Make6Bit('A'), 37);
    EXPECT_EQ(Make6Bit('Z'), 62);
    EXPECT_EQ(ER_FOLI, 42);
    EXPECT_EQ(ER_DEVC, 40);
    EXPECT_EQ(ER_KRNL, 0xBDC);
    EXPECT_LT(MakeErr(ER_USER, MakeErrId('M', 'y'), ER_INFO, ER_E_USER, ER_C_NSTND, 1), 0);
}

TEST(PortfolioErrors, StandardAndKernelTexts) {
    EXPECT_EQ(text(BADITEM), "FKr-Severe-System-Standard-Bad Item");
    EXPECT_EQ(text(NOMEM), "FKr-Severe-System-Standard-insufficient memory to complete");
    EXPECT_EQ(text(ABORTED), "FKr-Severe-System-Standard-operation aborted");
    EXPECT_EQ(text(MakeKErr(ER_SEVERE, ER_C_STND, ER_IONotDone)),
              "FKr-Severe-System-Standard-IO in progress for this IOReq");
    EXPECT_EQ(text(MakeKErr(ER_SEVERE, ER_C_STND, ER_NoHardware)),
              "FKr-Severe-System-Standard-Required hardware is not available");
    EXPECT_EQ(text(MakeKErr(ER_SEVERE, ER_C_NSTND, ER_Kr_ItemNotOpen)),
              "FKr-Severe-System-Extended-Item is not opened by you");
    EXPECT_EQ(text(ILLEGALSIGNAL), "FKr-Severe-System-Extended-Illegal signal");
    EXPECT_EQ(text(KILLED), "FKr-Severe-System-Extended-Task got killed");
    EXPECT_EQ(text(MAKEKERR(ER_KYAGB, ER_C_NSTND, ER_Kr_RsrcTblOvfFlw)),
              "FKr-Fatal-System-Extended-Resource Table OverFlow");
}

TEST(PortfolioErrors, CodesWithoutText) {
    // A standard code past the table, and another module's own code.
    EXPECT_EQ(text(MakeKErr(ER_WARN, ER_C_STND, 200)), "FKr-Warning-System-Standard-<200>");
    EXPECT_EQ(text(MakeErr(ER_DEVC, ER_CDROM, ER_INFO, ER_E_APPL, ER_C_NSTND, 7)),
              "DCD-Info-Application-Extended-<007>");
    EXPECT_EQ(text(MakeErr(ER_USER, MakeErrId('M', 'y'), ER_SEVERE, ER_E_USER, ER_C_NSTND, 42)),
              "UMy-Severe-User-Extended-<042>");
}

TEST(PortfolioErrors, NotErrors) {
    EXPECT_EQ(text(0), "<0, not an error>");
    EXPECT_EQ(text(1234), "<1234, not an error>");
    EXPECT_EQ(text(-1), "<-1, generic error>");
}

TEST(PortfolioErrors, BufferRules) {
    char buf[8] = "unset";
    EXPECT_EQ(GetSysErr(buf, 0, BADITEM), 0);
    EXPECT_STREQ(buf, "unset");
    EXPECT_EQ(GetSysErr(nullptr, 128, BADITEM), BADPTR);
    EXPECT_EQ(GetSysErr(buf, -1, BADITEM), BADPTR);
    // Truncated to the buffer, NUL included.
    EXPECT_EQ(GetSysErr(buf, sizeof(buf), BADITEM), 7);
    EXPECT_STREQ(buf, "FKr-Sev");
    EXPECT_EQ(GetSysErr(buf, 1, BADITEM), 0);
    EXPECT_STREQ(buf, "");
}

TEST(PortfolioErrors, PrintfSysErrPrintsTheTextAndANewline) {
    testing::internal::CaptureStdout();
    PrintfSysErr(BADITEM);
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "FKr-Severe-System-Standard-Bad Item\n");
}

} // namespace
