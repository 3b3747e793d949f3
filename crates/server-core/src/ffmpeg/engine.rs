//! A transcode `engine { }` (SRS's names and defaults, shared by `transcode`
//! and `ingest`): what ffmpeg is told to do with its input.

/// `engine [NAME] { }`.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// The engine's name (`[engine]` in `output`, and the log file's name);
    /// may be empty.
    pub name: String,
    /// `enabled` (default off).
    pub enabled: bool,
    /// `perfile { }`: options before the input (`-re`, `-rtsp_transport tcp`).
    pub perfile: Vec<String>,
    /// `iformat` (default `flv`; `off` names none). Used only for an
    /// `rtmp://` input, as SRS does.
    pub iformat: String,
    /// `vfilter { }`: options between the input and `-vcodec` (a logo's
    /// `-i`, `-filter_complex`, `-vf`).
    pub vfilter: Vec<String>,
    /// `vcodec`: `copy`, `vn` (no video), or an encoder (`libx264`).
    pub vcodec: String,
    /// `vbitrate`, kbit/s (0: the source's).
    pub vbitrate: u32,
    /// `vfps` (0: the source's).
    pub vfps: f64,
    /// `vwidth` (0: the source's; made even).
    pub vwidth: u32,
    /// `vheight` (0: the source's; made even).
    pub vheight: u32,
    /// `vthreads` (default 1).
    pub vthreads: u32,
    /// `vprofile` (x264 profile), needed when encoding video.
    pub vprofile: String,
    /// `vpreset` (x264 preset), needed when encoding video.
    pub vpreset: String,
    /// `vparams { }`: more video options, after `-preset`.
    pub vparams: Vec<String>,
    /// `acodec`: `copy`, `an` (no audio), or an encoder (`aac`, `libfdk_aac`).
    pub acodec: String,
    /// `abitrate`, kbit/s (0: the source's).
    pub abitrate: u32,
    /// `asample_rate`, Hz (0: the source's).
    pub asample_rate: u32,
    /// `achannels`: 0 (the source's), 1 or 2.
    pub achannels: u32,
    /// `aparams { }`: more audio options (with `acodec copy`, only
    /// `bsf:a aac_adtstoasc` is kept, as SRS does).
    pub aparams: Vec<String>,
    /// `oformat` (default `flv`; `off` names none).
    pub oformat: String,
    /// `output`: where ffmpeg writes, with `[vhost]`, `[port]`, `[app]`,
    /// `[stream]`, `[param]` and `[engine]` replaced.
    pub output: String,
}

impl EngineConfig {
    /// SRS's defaults for an engine called `name`.
    pub fn srs_default(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            enabled: false,
            perfile: Vec::new(),
            iformat: "flv".to_owned(),
            vfilter: Vec::new(),
            vcodec: String::new(),
            vbitrate: 0,
            vfps: 0.0,
            vwidth: 0,
            vheight: 0,
            vthreads: 1,
            vprofile: String::new(),
            vpreset: String::new(),
            vparams: Vec::new(),
            acodec: String::new(),
            abitrate: 0,
            asample_rate: 0,
            achannels: 0,
            aparams: Vec::new(),
            oformat: "flv".to_owned(),
            output: String::new(),
        }
    }

    /// What SRS's `initialize_copy` leaves: both streams copied, no input
    /// format, no filters, FLV out (an ingest whose engine is off or names
    /// no codecs).
    pub fn copy(output: &str) -> Self {
        Self {
            iformat: String::new(),
            vcodec: CODEC_COPY.to_owned(),
            acodec: CODEC_COPY.to_owned(),
            vthreads: 0,
            output: output.to_owned(),
            ..Self::srs_default("")
        }
    }

    /// SRS's checks of an engine that transcodes (`initialize_transcode`),
    /// made when the config is read: the reason it cannot run, if any.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.vcodec == CODEC_NO_VIDEO && self.acodec == CODEC_NO_AUDIO {
            return Err("vcodec vn with acodec an leaves nothing to output");
        }
        if self.encodes_video() && (self.vprofile.is_empty() || self.vpreset.is_empty()) {
            return Err("a video encoder needs vprofile and vpreset");
        }
        if !matches!(self.achannels, 0..=2) {
            return Err("achannels must be 0, 1 or 2");
        }
        if self.output.is_empty() {
            return Err("no output");
        }
        Ok(())
    }

    /// Whether video is encoded (not copied, dropped, or snapshotted to PNG).
    pub fn encodes_video(&self) -> bool {
        !matches!(self.vcodec.as_str(), CODEC_COPY | CODEC_NO_VIDEO | "png")
    }
}

/// `vcodec copy` / `acodec copy`.
pub const CODEC_COPY: &str = "copy";
/// `vcodec vn`: no video.
pub const CODEC_NO_VIDEO: &str = "vn";
/// `acodec an`: no audio.
pub const CODEC_NO_AUDIO: &str = "an";
