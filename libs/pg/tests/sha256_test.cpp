// The checksum recorded for applied migrations: SHA-256 in lower-case hex (FIPS 180-4 vectors).
#include <catch2/catch.hpp>

#include "switchboard/pg/migrations.h"

TEST_CASE("Sha256Hex matches the FIPS 180-4 examples", "[pg]") {
  CHECK(sb::pg::Sha256Hex("") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sb::pg::Sha256Hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sb::pg::Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("the migration lock key depends on the schema only", "[pg]") {
  CHECK(sb::pg::MigrationLockKey("billing") == sb::pg::MigrationLockKey("billing"));
  CHECK(sb::pg::MigrationLockKey("billing") != sb::pg::MigrationLockKey("admin"));
}
