//! The provider binary started the way Terraform starts it: go-plugin's
//! cookie, protocol list and a P-521 client certificate. Only that exact
//! certificate may call it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use terraform_provider_vmax::tfplugin::plugin::{MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE};
use terraform_provider_vmax::tfplugin::proto::plugin::{
    Empty, grpc_controller_client::GrpcControllerClient,
};
use terraform_provider_vmax::tfplugin::proto::tfplugin6::{
    get_provider_schema, provider_client::ProviderClient,
};

const BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-vmax");

fn p521_cert() -> (
    String,
    rustls::pki_types::CertificateDer<'static>,
    rustls::pki_types::PrivateKeyDer<'static>,
) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
    let mut p = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = p.self_signed(&key).unwrap();
    let der = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap();
    (cert.pem(), cert.der().clone(), der)
}

/// Accepts exactly the server certificate from the handshake line (what
/// go-plugin's host does by putting it in its root pool).
#[derive(Debug)]
struct Pinned(Vec<u8>, Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        e: &rustls::pki_types::CertificateDer<'_>,
        _i: &[rustls::pki_types::CertificateDer<'_>],
        _n: &rustls::pki_types::ServerName<'_>,
        _o: &[u8],
        _t: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if e.as_ref() == self.0.as_slice() {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "unexpected server certificate".into(),
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.1.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.1.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.1.signature_verification_algorithms.supported_schemes()
    }
}

async fn channel(
    addr: String,
    server_der: Vec<u8>,
    client: Option<(
        rustls::pki_types::CertificateDer<'static>,
        rustls::pki_types::PrivateKeyDer<'static>,
    )>,
) -> Result<tonic::transport::Channel, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let b = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned(server_der, provider)));
    let mut cfg = match client {
        Some((c, k)) => b.with_client_auth_cert(vec![c], k).unwrap(),
        None => b.with_no_client_auth(),
    };
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    let tls = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    let connector = tower::service_fn(move |_: tonic::transport::Uri| {
        let (tls, addr) = (tls.clone(), addr.clone());
        async move {
            let tcp = tokio::net::TcpStream::connect(addr).await?;
            let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
            let s = tls.connect(name, tcp).await?;
            Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(s))
        }
    });
    tonic::transport::Endpoint::from_static("http://localhost")
        .connect_with_connector(connector)
        .await
        .map_err(|e| e.to_string())
}

#[test]
fn run_directly_it_explains_itself_and_exits_1() {
    let o = Command::new(BIN)
        .env_remove(MAGIC_COOKIE_KEY)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("This binary is a plugin"));
    assert!(o.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_terraforms_certificate_may_call_the_provider() {
    let (pem, cert, key) = p521_cert();
    let mut child = Command::new(BIN)
        .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_MIN_PORT", "20000")
        .env("PLUGIN_MAX_PORT", "29999")
        .env("PLUGIN_CLIENT_CERT", &pem)
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let parts: Vec<&str> = line.trim().split('|').collect();
    assert_eq!(parts.len(), 6, "{line}");
    assert_eq!(&parts[..3], &["1", "6", "tcp"]);
    assert_eq!(parts[4], "grpc");
    assert!(parts[3].starts_with("127.0.0.1:"));
    let port: u16 = parts[3].rsplit(':').next().unwrap().parse().unwrap();
    assert!((20000..=29999).contains(&port));
    assert!(!parts[5].ends_with('='), "no base64 padding");
    use base64::Engine;
    let server_der = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(parts[5])
        .unwrap();
    let addr = parts[3].to_string();

    let schema_req = || tonic::Request::new(get_provider_schema::Request {});

    // no client certificate: refused
    let refused = match channel(addr.clone(), server_der.clone(), None).await {
        Err(_) => true,
        Ok(ch) => ProviderClient::new(ch)
            .get_provider_schema(schema_req())
            .await
            .is_err(),
    };
    assert!(refused, "a call without a client certificate must fail");

    // another P-521 certificate: refused
    let (_, other, other_key) = p521_cert();
    let refused = match channel(addr.clone(), server_der.clone(), Some((other, other_key))).await {
        Err(_) => true,
        Ok(ch) => ProviderClient::new(ch)
            .get_provider_schema(schema_req())
            .await
            .is_err(),
    };
    assert!(refused, "a call with another certificate must fail");

    // Terraform's certificate: the schema
    let ch = channel(addr.clone(), server_der.clone(), Some((cert, key)))
        .await
        .expect("connect");
    let schema = ProviderClient::new(ch.clone())
        .get_provider_schema(schema_req())
        .await
        .expect("schema")
        .into_inner();
    assert!(schema.resource_schemas.contains_key("vmax_volume"));
    assert!(
        schema
            .provider
            .unwrap()
            .block
            .unwrap()
            .attributes
            .iter()
            .any(|a| a.name == "password" && a.sensitive)
    );

    // only the handshake line on stdout
    GrpcControllerClient::new(ch)
        .shutdown(tonic::Request::new(Empty {}))
        .await
        .expect("shutdown");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(rest.is_empty(), "stdout after the handshake: {rest:?}");
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit after Shutdown: {status:?}");
}

#[test]
fn a_client_that_never_finishes_its_handshake_is_dropped() {
    use std::io::Read;
    let (pem, _, _) = p521_cert();
    let mut child = Command::new(BIN)
        .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env("PLUGIN_CLIENT_CERT", &pem)
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().split('|').nth(3).unwrap().to_string();
    // connect, then say nothing: the provider hangs up after its timeout
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut buf = Vec::new();
    let r = s.read_to_end(&mut buf);
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        r.is_ok(),
        "the provider kept a silent connection open: {r:?}"
    );
}
