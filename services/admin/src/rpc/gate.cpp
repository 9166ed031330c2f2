#include "rpc/gate.h"

#include <chrono>
#include <string>

#include "rpc/convert.h"

namespace sb::admin::rpc {

grpc::Status Gate::Run(grpc::ServerContext* context, std::string_view method,
                       const std::function<Status(const Principal&)>& handler) {
  const auto start = std::chrono::steady_clock::now();
  Status status;
  std::string tenant;
  {
    const auto& md = context->client_metadata();
    auto it = md.find("authorization");
    std::string_view authorization;
    if (it != md.end()) authorization = std::string_view(it->second.data(), it->second.size());
    auto principal = provisioning_.Authenticate(authorization);
    if (!principal.ok()) {
      status = principal.status();
    } else {
      if (principal->tenant) tenant = principal->tenant->str();
      status = limiter_.Admit(principal->key_id);
      if (status.ok()) status = handler(*principal);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string m(method);
  metrics_
      .Counter("sb_admin_rpc_total", "admin gRPC calls by method and result",
               {{"method", m}, {"code", std::string(StatusCodeName(status.code()))}})
      .Inc();
  metrics_
      .Histogram("sb_admin_rpc_seconds", "admin gRPC latency by method", core::kLatencyBuckets,
                 {{"method", m}})
      .Observe(seconds);
  if (!status.ok()) {
    const bool server_side =
        status.code() == StatusCode::kInternal || status.code() == StatusCode::kUnavailable;
    log_.Log(server_side ? core::LogLevel::kError : core::LogLevel::kInfo, "rpc failed",
             {{"method", m},
              {"tenant_id", tenant},
              {"code", std::string(StatusCodeName(status.code()))},
              {"error", status.message()}});
  }
  return ToGrpc(status, context);
}

}  // namespace sb::admin::rpc
