#include "domain/paging.h"

#include <catch2/catch.hpp>

#include "domain/audit_log.h"

namespace sb::admin {
namespace {

TEST_CASE("page size defaults, caps and rejects negatives", "[unit]") {
  CHECK(ParsePageRequest(0, "", "page")->size == kDefaultPageSize);
  CHECK(ParsePageRequest(7, "", "page")->size == 7);
  CHECK(ParsePageRequest(100000, "", "page")->size == kMaxPageSize);
  auto neg = ParsePageRequest(-1, "", "page");
  CHECK(neg.status().field() == "page.page_size");
}

TEST_CASE("a page token round-trips the last id and rejects anything else", "[unit]") {
  const std::string id = "0190f3a0-1c2b-7d3e-8f40-123456789abc";
  CHECK(PageToken("").empty());
  CHECK(ParsePageRequest(10, PageToken(id), "page")->after == id);
  CHECK(ParsePageRequest(10, "", "page")->after.empty());
  for (std::string bad : {std::string("garbage"), id, std::string("p1."), "p2." + id}) {
    DYNAMIC_SECTION(bad) {
      CHECK(ParsePageRequest(10, bad, "page").status().field() == "page.page_token");
    }
  }
}

TEST_CASE("audit log page tokens carry decimal entry ids and refuse UUIDs", "[unit]") {
  CHECK(ParsePageRequest(10, PageToken("42"), "page", IsAuditEntryId)->after == "42");
  const std::string uuid = "0190f3a0-1c2b-7d3e-8f40-123456789abc";
  for (std::string bad : {"p1." + uuid, std::string("p1.-1"), std::string("p1.4x"),
                          std::string("p1.1234567890123456789")}) {
    DYNAMIC_SECTION(bad) {
      CHECK(ParsePageRequest(10, bad, "page", IsAuditEntryId).status().field() ==
            "page.page_token");
    }
  }
}

}  // namespace
}  // namespace sb::admin
