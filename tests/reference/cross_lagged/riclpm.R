# Reference for engagestats.cross_lagged: the random-intercept cross-lagged panel model
# (Hamaker, Kuiper & Grasman 2015; lavaan syntax of Mulder & Hamaker 2021) fitted by lavaan
# with full-information ML on panel.csv (wide by session number; a session absent from the
# file is missing at that occasion). Time-invariant lagged paths and innovation (co)variances,
# free occasion means, observed information (Hessian) for the SEs.
#
# Fitted twice: occasion = session number (estimates.csv, fit.json) and occasion = the
# client's k-th session in the file (estimates_attended.csv, fit_attended.json), and with
# random slopes by session number (estimates_trends.csv, fit_trends.json).
#
#   Rscript tests/reference/cross_lagged/riclpm.R
suppressPackageStartupMessages(library(lavaan))
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
long <- read.csv(file.path(here, "panel.csv"))
T <- 6
# occasion = "attended": the client's k-th row with a value (rows are sorted by session)
long <- long[order(long$client_id, long$session), ]
long$attended <- ave(long$session, long$client_id, FUN = seq_along)
to_wide <- function(occ) {
  wide <- data.frame(client_id = unique(long$client_id))
  for (t in 1:T) {
    s <- long[long[[occ]] == t, ]
    wide[[paste0("x", t)]] <- s$wai_sr_sum[match(wide$client_id, s$client_id)]
    wide[[paste0("y", t)]] <- s$phq9_total[match(wide$client_id, s$client_id)]
  }
  wide
}
xs <- paste0("x", 1:T); ys <- paste0("y", 1:T)
m <- c(
  paste("RIx =~", paste0("1*", xs, collapse = " + ")),
  paste("RIy =~", paste0("1*", ys, collapse = " + ")),
  paste0("wx", 1:T, " =~ 1*", xs), paste0("wy", 1:T, " =~ 1*", ys),
  paste0(xs, " ~~ 0*", xs), paste0(ys, " ~~ 0*", ys),
  paste0("wx", 2:T, " ~ a*wx", 1:(T - 1), " + b*wy", 1:(T - 1)),
  paste0("wy", 2:T, " ~ d*wx", 1:(T - 1), " + c*wy", 1:(T - 1)),
  "wx1 ~~ wx1", "wy1 ~~ wy1", "wx1 ~~ wy1",
  paste0("wx", 2:T, " ~~ vx*wx", 2:T), paste0("wy", 2:T, " ~~ vy*wy", 2:T),
  paste0("wx", 2:T, " ~~ cxy*wy", 2:T),
  "RIx ~~ RIx", "RIy ~~ RIy", "RIx ~~ RIy",
  "RIx ~~ 0*wx1", "RIx ~~ 0*wy1", "RIy ~~ 0*wx1", "RIy ~~ 0*wy1"
)
# trends = TRUE: person-specific linear trends (random slopes loading t - 1), the latent
# curve model with structured residuals (Curran et al. 2014)
m_trends <- c(m,
  paste("RSx =~", paste0(0:(T - 1), "*", xs, collapse = " + ")),
  paste("RSy =~", paste0(0:(T - 1), "*", ys, collapse = " + ")),
  "RSx ~~ RSx", "RSy ~~ RSy", "RSx ~~ RSy",
  "RIx ~~ RSx", "RIx ~~ RSy", "RIy ~~ RSx", "RIy ~~ RSy",
  "RSx ~~ 0*wx1", "RSx ~~ 0*wy1", "RSy ~~ 0*wx1", "RSy ~~ 0*wy1"
)
for (occ in c("session", "attended", "trends")) {
wide <- to_wide(if (occ == "trends") "session" else occ)
suffix <- if (occ == "session") "" else paste0("_", occ)
model <- if (occ == "trends") m_trends else m
fit <- lavaan(paste(model, collapse = "\n"), data = wide[, c(rbind(xs, ys))],
              missing = "ml", meanstructure = TRUE, int.ov.free = TRUE, int.lv.free = FALSE,
              information = "observed", observed.information = "hessian")
pe <- parameterEstimates(fit)
pe <- pe[!(pe$op %in% c("=~")) & !(pe$op == "~~" & pe$lhs == pe$rhs & pe$se == 0), ]
pe <- pe[pe$se > 0, ]
# one row per distinct free parameter (equal-labelled ones are identical)
key <- trimws(ifelse(pe$label != "", pe$label, paste(pe$lhs, pe$op, pe$rhs)))
pe <- pe[!duplicated(key), ]
pe$key <- key[!duplicated(key)]
write.csv(pe[, c("key", "lhs", "op", "rhs", "est", "se", "z", "pvalue", "ci.lower", "ci.upper")],
          file.path(here, paste0("estimates", suffix, ".csv")), row.names = FALSE)
info <- sprintf('{"logl": %.10f, "npar": %d, "n": %d, "lavaan": "%s", "call": "%s"}',
                as.numeric(logLik(fit)), as.integer(fitMeasures(fit, "npar")), lavInspect(fit, "nobs"),
                as.character(packageVersion("lavaan")),
                "lavaan(model, data = wide, missing = 'ml', meanstructure = TRUE, int.ov.free = TRUE, int.lv.free = FALSE, information = 'observed', observed.information = 'hessian')")
writeLines(info, file.path(here, paste0("fit", suffix, ".json")))
print(pe[1:12, c("key", "est", "se")])
}
