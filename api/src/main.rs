//! `cargo run`: the posts API server.

use std::process::ExitCode;

use api::{Application, Settings};

fn main() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let result = actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).await?;
        log::info!("listening on port {}; docs at /docs", app.port());
        app.run_until_stopped()
            .await
            .map_err(|e| api::StartError::Bind {
                address: "server".into(),
                source: e,
            })
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
