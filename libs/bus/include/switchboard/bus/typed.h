// Typed helpers: publish, request, serve, subscribe and consume protobuf messages on any Bus.
// A body that does not parse is counted in a ParseErrorCounter and dropped (core) or termed
// (JetStream, so a poison message is not redelivered forever): never a crash, never a loop.
//
//   sb::bus::ParseErrorCounter bad_input;
//   auto server = sb::bus::ServeProto<AuthorizeRequest, AuthorizeResponse>(
//       bus, *subjects::Command("billing", "authorize"), "billing",
//       [&](const AuthorizeRequest& req, const Message&) -> Result<AuthorizeResponse> {
//         return ledger.Authorize(req);
//       }, &bad_input);
//   auto answer = sb::bus::RequestProto<AuthorizeResponse>(bus, subject, req, 500ms);
//   sb::bus::RequestProtoAsync<AuthorizeResponse>(requests, subject, req, 500ms,
//                                                 [](sb::Result<AuthorizeResponse> a) { ... });
//
// A responder's error Status travels back in headers (kStatusHeader, kStatusMessageHeader) and
// RequestProto returns it as the same Status, so an error crosses the bus with its code.
// The Bus passed to ServeProto must outlive the subscription.
#pragma once

#include <google/protobuf/message_lite.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>

#include "switchboard/bus/async_requests.h"
#include "switchboard/bus/bus.h"

namespace sb::bus {

inline constexpr std::string_view kStatusHeader = "Sb-Status";  // StatusCode as a decimal number
inline constexpr std::string_view kStatusMessageHeader = "Sb-Status-Message";

class ParseErrorCounter {
 public:
  void Add() { count_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t value() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> count_{0};
};

// The message's bytes, or INTERNAL if protobuf cannot serialize it (missing required fields).
Result<std::string> Serialize(const google::protobuf::MessageLite& message);

Status PublishProto(Bus& bus, std::string_view subject, const google::protobuf::MessageLite& body,
                    Headers headers = {});

Result<PublishAck> JsPublishProto(Bus& bus, std::string_view subject,
                                  const google::protobuf::MessageLite& body, std::string msg_id,
                                  Duration timeout);

// The Status a responder put in the reply's headers (OK when there is none).
Status StatusFromReply(const Message& reply);
// Answers `reply_to` with an error: empty body, status headers.
Status ReplyWithStatus(Bus& bus, std::string_view reply_to, const Status& status);

// What a request to `subject` got: the responder's error Status, or its Response.
template <typename Response>
Result<Response> ParseReply(std::string_view subject, const Result<Message>& reply) {
  if (!reply.ok()) return reply.status();
  Status remote = StatusFromReply(*reply);
  if (!remote.ok()) return remote;
  Response response;
  if (!response.ParseFromString(reply->data)) {
    return Status::Internal("the reply from " + std::string(subject) + " is not a " +
                            response.GetTypeName());
  }
  return response;
}

template <typename Response>
Result<Response> RequestProto(Bus& bus, std::string_view subject,
                              const google::protobuf::MessageLite& request, Duration timeout) {
  auto body = Serialize(request);
  if (!body.ok()) return body.status();
  return ParseReply<Response>(
      subject, bus.Request({.subject = std::string(subject), .data = std::move(*body)}, timeout));
}

// RequestProto without blocking: `done` gets the same outcome, on a thread of `requests`.
template <typename Response>
void RequestProtoAsync(AsyncRequests& requests, std::string_view subject,
                       const google::protobuf::MessageLite& request, Duration timeout,
                       std::function<void(Result<Response>)> done) {
  auto body = Serialize(request);
  if (!body.ok()) return done(body.status());
  requests.Send({.subject = std::string(subject), .data = std::move(*body)}, timeout,
                [subject = std::string(subject), done = std::move(done)](Result<Message> reply) {
                  done(ParseReply<Response>(subject, reply));
                });
}

template <typename Request, typename Response>
Result<std::unique_ptr<Subscription>> ServeProto(
    Bus& bus, std::string_view subject, std::string_view queue_group,
    std::function<Result<Response>(const Request&, const Message&)> serve,
    ParseErrorCounter* parse_errors) {
  return bus.Subscribe(
      subject, queue_group, [&bus, serve = std::move(serve), parse_errors](const Message& m) {
        Request request;
        if (!request.ParseFromString(m.data)) {
          if (parse_errors) parse_errors->Add();
          if (!m.reply.empty()) {
            (void)ReplyWithStatus(
                bus, m.reply,
                Status::InvalidArgument("the request body is not a " + request.GetTypeName()));
          }
          return;
        }
        Result<Response> response = serve(request, m);
        if (m.reply.empty()) return;
        if (!response.ok()) {
          (void)ReplyWithStatus(bus, m.reply, response.status());
          return;
        }
        (void)PublishProto(bus, m.reply, *response);
      });
}

template <typename Body>
Result<std::unique_ptr<Subscription>> SubscribeProto(
    Bus& bus, std::string_view subject, std::string_view queue_group,
    std::function<void(const Body&, const Message&)> handle, ParseErrorCounter* parse_errors) {
  return bus.Subscribe(subject, queue_group,
                       [handle = std::move(handle), parse_errors](const Message& m) {
                         Body body;
                         if (!body.ParseFromString(m.data)) {
                           if (parse_errors) parse_errors->Add();
                           return;
                         }
                         handle(body, m);
                       });
}

template <typename Body>
Result<std::unique_ptr<Subscription>> ConsumeProto(
    Bus& bus, const ConsumerConfig& config, std::function<void(const Body&, JsMessage&)> handle,
    ParseErrorCounter* parse_errors) {
  return bus.Consume(config, [handle = std::move(handle), parse_errors](JsMessage& m) {
    Body body;
    if (!body.ParseFromString(m.message().data)) {
      if (parse_errors) parse_errors->Add();
      (void)m.Term();
      return;
    }
    handle(body, m);
  });
}

}  // namespace sb::bus
