//! go-plugin's handshake and AutoMTLS.
//!
//! Terraform starts the provider with a magic cookie, the protocol versions
//! it speaks, a port range and its own client certificate (ECDSA P-521) in
//! `PLUGIN_CLIENT_CERT`. We answer with one stdout line naming our address
//! and a fresh server certificate, then serve gRPC over TLS that accepts
//! only that exact client certificate. rustls with aws-lc-rs verifies P-521.

use super::Provider;
use super::proto::plugin as gp;
use super::proto::tfplugin6::provider_server::ProviderServer;
use super::server::Server;
use base64::Engine;
use rustls::DistinguishedName;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime, pem::PemObject};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_util::sync::CancellationToken;

pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// What the host told us through the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    pub client_cert_pem: Option<String>,
    pub min_port: u16,
    pub max_port: u16,
}

/// Checks the environment as go-plugin's host sets it.
pub fn parse_handshake(get: impl Fn(&str) -> Option<String>) -> Result<Handshake, String> {
    if get(MAGIC_COOKIE_KEY).as_deref() != Some(MAGIC_COOKIE_VALUE) {
        return Err(
            "This binary is a plugin. These are not meant to be executed directly.\n\
Please execute the program that consumes these plugins, which will\n\
load any plugins automatically (this is the Terraform provider for Dell EMC VMAX/PowerMax:\n\
run `terraform`, or start it with --debug to attach Terraform to it)."
                .into(),
        );
    }
    let versions = get("PLUGIN_PROTOCOL_VERSIONS").unwrap_or_default();
    if !versions.split(',').any(|v| v.trim() == "6") {
        return Err(format!(
            "this provider speaks plugin protocol 6, but Terraform offered {versions:?}; use Terraform 1.0 or later"
        ));
    }
    let port = |k: &str, d: u16| get(k).and_then(|v| v.parse().ok()).unwrap_or(d);
    let (min_port, max_port) = (
        port("PLUGIN_MIN_PORT", 10000),
        port("PLUGIN_MAX_PORT", 25000),
    );
    if min_port > max_port {
        return Err(format!(
            "PLUGIN_MIN_PORT {min_port} is above PLUGIN_MAX_PORT {max_port}"
        ));
    }
    Ok(Handshake {
        client_cert_pem: get("PLUGIN_CLIENT_CERT").filter(|c| !c.trim().is_empty()),
        min_port,
        max_port,
    })
}

/// The stdout line go-plugin reads.
pub fn handshake_line(addr: &std::net::SocketAddr, cert_der: &[u8]) -> String {
    format!(
        "1|6|tcp|{addr}|grpc|{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(cert_der)
    )
}

/// Accepts exactly one client certificate, and checks the handshake
/// signature made with its key.
#[derive(Debug)]
pub struct ExactClientCert {
    der: Vec<u8>,
    algs: WebPkiSupportedAlgorithms,
}

impl ExactClientCert {
    pub fn new(der: Vec<u8>) -> Self {
        ExactClientCert {
            der,
            algs: rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms,
        }
    }
}

impl ClientCertVerifier for ExactClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }
    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.der.as_slice() {
            Ok(ClientCertVerified::assertion())
        } else {
            tracing::warn!("refused a connection with a client certificate other than Terraform's");
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algs.supported_schemes()
    }
    fn client_auth_mandatory(&self) -> bool {
        true
    }
}

/// A fresh self-signed server certificate for this run, as go-plugin's
/// host expects it: valid for `localhost`, usable as its own CA.
pub fn server_cert() -> Result<(Vec<u8>, Vec<u8>), String> {
    use rcgen::{
        BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let mut p = CertificateParams::new(vec!["localhost".to_string()]).map_err(|e| e.to_string())?;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyCertSign,
    ];
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    p.distinguished_name
        .push(rcgen::DnType::OrganizationName, "HashiCorp");
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(|e| e.to_string())?;
    let cert = p.self_signed(&key).map_err(|e| e.to_string())?;
    Ok((cert.der().to_vec(), key.serialize_der()))
}

pub fn tls_config(
    client_cert_pem: &str,
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
) -> Result<rustls::ServerConfig, String> {
    let client = CertificateDer::from_pem_slice(client_cert_pem.as_bytes())
        .map_err(|e| format!("PLUGIN_CLIENT_CERT is not a PEM certificate: {e}"))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(Arc::new(ExactClientCert::new(client.to_vec())))
        .with_single_cert(
            vec![CertificateDer::from(cert_der)],
            PrivateKeyDer::try_from(key_der).map_err(|e| e.to_string())?,
        )
        .map_err(|e| e.to_string())?;
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    Ok(cfg)
}

/// A TLS stream that tonic can serve.
pub struct Conn(pub tokio_rustls::server::TlsStream<tokio::net::TcpStream>);

impl tonic::transport::server::Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

// ---- go-plugin side services ----------------------------------------------------------

struct Controller {
    shutdown: CancellationToken,
}

#[tonic::async_trait]
impl gp::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(
        &self,
        _r: tonic::Request<gp::Empty>,
    ) -> Result<tonic::Response<gp::Empty>, tonic::Status> {
        tracing::debug!("GRPCController.Shutdown: stopping");
        self.shutdown.cancel();
        Ok(tonic::Response::new(gp::Empty {}))
    }
}

type Never<T> = Pin<Box<dyn tokio_stream::Stream<Item = Result<T, tonic::Status>> + Send>>;

struct Stdio {
    shutdown: CancellationToken,
}

#[tonic::async_trait]
impl gp::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = Never<gp::StdioData>;
    async fn stream_stdio(
        &self,
        _r: tonic::Request<()>,
    ) -> Result<tonic::Response<Self::StreamStdioStream>, tonic::Status> {
        let done = self.shutdown.clone();
        let s = async_stream_end(done);
        Ok(tonic::Response::new(Box::pin(s)))
    }
}

struct Broker {
    shutdown: CancellationToken,
}

#[tonic::async_trait]
impl gp::grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = Never<gp::ConnInfo>;
    async fn start_stream(
        &self,
        _r: tonic::Request<tonic::Streaming<gp::ConnInfo>>,
    ) -> Result<tonic::Response<Self::StartStreamStream>, tonic::Status> {
        Ok(tonic::Response::new(Box::pin(async_stream_end(
            self.shutdown.clone(),
        ))))
    }
}

/// A stream that yields nothing and ends at shutdown.
fn async_stream_end<T: Send + 'static>(
    done: CancellationToken,
) -> impl tokio_stream::Stream<Item = Result<T, tonic::Status>> + Send {
    use tokio_stream::StreamExt;
    tokio_stream::once(())
        .then(move |_| {
            let done = done.clone();
            async move { done.cancelled().await }
        })
        .filter_map(|_| None)
}

/// Serves `provider` as Terraform's plugin; returns the process exit code.
pub async fn serve<P: Provider>(provider: P) -> i32 {
    let debug = std::env::args().any(|a| a == "--debug");
    let hs = if debug {
        Handshake {
            client_cert_pem: None,
            min_port: 10000,
            max_port: 25000,
        }
    } else {
        match parse_handshake(|k| std::env::var(k).ok()) {
            Ok(h) => h,
            Err(e) => {
                eprintln!("{e}");
                return 1;
            }
        }
    };
    let (cert_der, key_der) = match server_cert() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot make the plugin's TLS certificate: {e}");
            return 1;
        }
    };
    let server = Server::new(provider);
    let shutdown = CancellationToken::new();

    // debug mode serves plain gRPC on loopback; otherwise mutual TLS is mandatory
    let tls = match (&hs.client_cert_pem, debug) {
        (Some(pem), _) => match tls_config(pem, cert_der.clone(), key_der) {
            Ok(c) => Some(tokio_rustls::TlsAcceptor::from(Arc::new(c))),
            Err(e) => {
                eprintln!("{e}");
                return 1;
            }
        },
        (None, true) => None,
        (None, false) => {
            eprintln!(
                "PLUGIN_CLIENT_CERT is not set: this provider refuses to serve without Terraform's client certificate (AutoMTLS). Use Terraform 0.13 or later."
            );
            return 1;
        }
    };

    let mut listener = None;
    for port in hs.min_port..=hs.max_port {
        if let Ok(l) = tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            listener = Some(l);
            break;
        }
    }
    let Some(listener) = listener else {
        eprintln!("no free port between {} and {}", hs.min_port, hs.max_port);
        return 1;
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };

    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let router = tonic::transport::Server::builder()
        .add_service(health)
        .add_service(gp::grpc_controller_server::GrpcControllerServer::new(
            Controller {
                shutdown: shutdown.clone(),
            },
        ))
        .add_service(gp::grpc_stdio_server::GrpcStdioServer::new(Stdio {
            shutdown: shutdown.clone(),
        }))
        .add_service(gp::grpc_broker_server::GrpcBrokerServer::new(Broker {
            shutdown: shutdown.clone(),
        }))
        .add_service(
            ProviderServer::new(server)
                .max_decoding_message_size(256 << 20)
                .max_encoding_message_size(256 << 20),
        );

    let sd = shutdown.clone();
    let signal = async move {
        tokio::select! {
            _ = sd.cancelled() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };

    if debug {
        let reattach = serde_json::json!({
            "registry.terraform.io/local/vmax": {
                "Protocol": "grpc", "ProtocolVersion": 6, "Pid": std::process::id(), "Test": true,
                "Addr": {"Network": "tcp", "String": addr.to_string()}
            }
        });
        println!(
            "Provider started in debug mode. To attach Terraform, set in your shell:\n\n\tTF_REATTACH_PROVIDERS='{reattach}'\n"
        );
        // no TLS in debug mode: Terraform's reattach path connects without a certificate
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
        if let Err(e) = router.serve_with_incoming_shutdown(incoming, signal).await {
            eprintln!("{e}");
            return 1;
        }
        return 0;
    }

    println!("{}", handshake_line(&addr, &cert_der));
    use std::io::Write;
    let _ = std::io::stdout().flush();
    watch_parent(shutdown.clone());

    let acceptor = tls.expect("TLS is configured outside debug mode");
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Conn, std::io::Error>>(16);
    let accept_stop = shutdown.clone();
    tokio::spawn(async move {
        loop {
            let (sock, _) = tokio::select! {
                r = listener.accept() => match r {
                    Ok(x) => x,
                    // out of file descriptors and the like: wait, never spin
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot accept a connection; retrying shortly");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    }
                },
                _ = accept_stop.cancelled() => break,
            };
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                // a client that never finishes the handshake is dropped
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(sock)).await {
                    Ok(Ok(s)) => {
                        let _ = tx.send(Ok(Conn(s))).await;
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "refused a gRPC connection at the TLS handshake")
                    }
                    Err(_) => tracing::warn!(
                        "dropped a gRPC connection that did not finish its TLS handshake"
                    ),
                }
            });
        }
    });
    let incoming = tokio_stream::wrappers::ReceiverStream::new(rx);
    if let Err(e) = router.serve_with_incoming_shutdown(incoming, signal).await {
        eprintln!("{e}");
        return 1;
    }
    0
}

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Exits when Terraform goes away: a provider whose parent died (killed,
/// crashed) is re-parented, and must not stay behind holding the array's
/// password and its listener. Checked twice a second.
fn watch_parent(shutdown: CancellationToken) {
    let parent = std::os::unix::process::parent_id();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(std::time::Duration::from_millis(500));
            if shutdown.is_cancelled() {
                return;
            }
            if std::os::unix::process::parent_id() != parent {
                // nobody reads our stderr any more: exit without a word
                std::process::exit(1);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn handshake_needs_cookie_and_protocol_6() {
        assert!(
            parse_handshake(env(&[]))
                .unwrap_err()
                .contains("This binary is a plugin")
        );
        let e = parse_handshake(env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "5"),
        ]))
        .unwrap_err();
        assert!(e.contains("protocol 6"));
        let h = parse_handshake(env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "5,6"),
            ("PLUGIN_MIN_PORT", "11000"),
            ("PLUGIN_MAX_PORT", "11010"),
            ("PLUGIN_CLIENT_CERT", "PEM"),
        ]))
        .unwrap();
        assert_eq!((h.min_port, h.max_port), (11000, 11010));
        assert_eq!(h.client_cert_pem.as_deref(), Some("PEM"));
    }

    #[test]
    fn handshake_line_has_unpadded_base64_cert() {
        let addr: std::net::SocketAddr = "127.0.0.1:12345".parse().unwrap();
        let line = handshake_line(&addr, &[1, 2, 3, 4]);
        assert_eq!(line, "1|6|tcp|127.0.0.1:12345|grpc|AQIDBA");
    }
}
