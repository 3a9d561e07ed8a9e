#include "front/admin_server.hpp"

#include <stdexcept>

#include <pistache/endpoint.h>
#include <pistache/http.h>

namespace trellis::front {

using namespace Pistache;

namespace {

class AdminHandler : public Http::Handler {
public:
    HTTP_PROTOTYPE(AdminHandler)

    explicit AdminHandler(AdminServer::Responder responder) : responder_(std::move(responder)) {}

    void onRequest(const Http::Request& request, Http::ResponseWriter response) override {
        AdminAnswer answer;
        try {
            answer = responder_(Http::methodString(request.method()), request.resource());
        } catch (...) {
            answer = {500, "text/plain; charset=utf-8", "internal error\n"};
        }
        // Probes and scrapers open a connection per request; closing after
        // the answer keeps nothing idle on the supervisor.
        response.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
        response.setMime(Http::Mime::MediaType::fromString(answer.content_type));
        response.send(static_cast<Http::Code>(answer.status), answer.body);
    }

private:
    AdminServer::Responder responder_;
};

}  // namespace

AdminServer::AdminServer(std::string listen, std::uint16_t port, Responder responder)
    : listen_(std::move(listen)), port_(port), responder_(std::move(responder)) {}

AdminServer::~AdminServer() { stop(); }

void AdminServer::start() {
    endpoint_ = std::make_unique<Http::Endpoint>(Address(listen_, Port(port_)));
    endpoint_->init(Http::Endpoint::options().threads(1).flags(Tcp::Options::ReuseAddr).maxRequestSize(16 * 1024));
    endpoint_->setHandler(std::make_shared<AdminHandler>(responder_));
    try {
        endpoint_->serveThreaded();
    } catch (const std::exception& e) {
        endpoint_.reset();
        throw std::runtime_error("admin: cannot listen on " + listen_ + ":" + std::to_string(port_) + ": " + e.what());
    }
}

std::uint16_t AdminServer::port() const {
    return endpoint_ ? static_cast<std::uint16_t>(endpoint_->getPort()) : 0;
}

void AdminServer::stop() {
    if (!endpoint_) return;
    endpoint_->shutdown();
    endpoint_.reset();
}

}  // namespace trellis::front
