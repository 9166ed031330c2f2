// Runs the sbctl binary the way people use it on a trace: `sbctl sip parse FILE|-`.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace {

struct Run {
  int exit_code;
  std::string out;
};

Run Sbctl(const std::string& args) {
  std::string command = std::string(SBCTL_PATH) + " " + args + " 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string Torture(const char* name) {
  std::string path = std::string(SB_SIP_TORTURE_DIR) + "/" + name + ".dat";
  INFO("torture file " << path << " must exist (shared/ beside the repository)");
  REQUIRE(std::ifstream(path).good());
  return path;
}

std::string WriteTemp(const std::string& name, const std::string& bytes) {
  std::string path = "/tmp/sbctl_test_" + std::to_string(getpid()) + "_" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST_CASE("sbctl sip parse prints a message as JSON", "[sbctl]") {
  Run r = Sbctl("sip parse " + Torture("wsinv"));
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["type"] == "request");
  CHECK(j["method"] == "INVITE");
  CHECK(j["request_uri"]["host"] == "chair-dnrc.example.com");
  CHECK(j["via"].size() == 3);
  CHECK(j["via"][1]["transport"] == "TCP");
  CHECK(j["via"][2]["params"]["branch"] == "z9hG4bK30239");
  CHECK(j["from"]["params"]["tag"] == "98asjd8");
  CHECK(j["cseq"]["number"] == 9);
  CHECK(j["max_forwards"] == 68);
  CHECK(j["contact"][0]["params"]["q"] == "0.33");
  CHECK(j["contact"][0]["params"]["secondparam"].is_null());
  CHECK(j["headers"].size() == 14);
}

TEST_CASE("sbctl sip parse - reads stdin and reports the response a server would send", "[sbctl]") {
  Run r = Sbctl("sip parse - < " + Torture("badvers"));
  CHECK(r.exit_code == 1);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["error"]["status"] == 505);
  CHECK(j["error"]["action"] == "respond");
  std::string response = j["error"]["response"];
  CHECK(response.rfind("SIP/2.0 505 Version Not Supported\r\n", 0) == 0);

  Run dropped = Sbctl("sip parse " + Torture("bigcode"));
  CHECK(dropped.exit_code == 1);
  CHECK(nlohmann::json::parse(dropped.out)["error"]["action"] == "drop");
}

TEST_CASE("sbctl sip parse --stream frames several messages", "[sbctl]") {
  std::string msg =
      "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
      "To: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
  std::string path = WriteTemp("stream", msg + "\r\n\r\n" + msg);
  Run r = Sbctl("sip parse --stream " + path);
  std::remove(path.c_str());
  CHECK(r.exit_code == 0);
  size_t objects = 0;
  for (size_t pos = 0; (pos = r.out.find("\n{", pos)) != std::string::npos; ++pos) ++objects;
  CHECK(objects + 1 == 2);
}

TEST_CASE("sbctl sip parse with a missing file or no arguments fails", "[sbctl]") {
  CHECK(Sbctl("sip parse /nonexistent/file.sip").exit_code == 2);
  CHECK(Sbctl("sip parse").exit_code != 0);
  CHECK(Sbctl("").exit_code != 0);
}

TEST_CASE("sbctl sip parse shows multipart parts and binary bodies safely", "[sbctl]") {
  Run r = Sbctl("sip parse " + Torture("mpart01"));
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["parts"].size() == 2);
  CHECK(j["parts"][0]["body"] == "Hello");
}

}  // namespace
