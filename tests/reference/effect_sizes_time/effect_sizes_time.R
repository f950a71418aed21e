# Reference values for tests/analyses/test_effect_sizes_time.py: effect_sizes(growth_model(
# sample, predictors = "format", time_method = "log" | "piecewise"), group = "format",
# duration = 12). d = L'b / SD_raw, L'b the model-implied individual - group difference at
# D = 12 sessions since the first (our generalisation of Feingold's 2009 d_GMA), SD_raw the
# pooled within-format SD of the PHQ-9 at time 0 (df = n - 2).
# Run from the repo root: Rscript tests/reference/effect_sizes_time/effect_sizes_time.R
# Input: panel.csv (written by make_panel.py). The time terms are recoded here.
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
here <- "tests/reference/effect_sizes_time"
d <- read.csv(file.path(here, "panel.csv"), stringsAsFactors = FALSE)
d$format <- factor(d$format)
D <- 12
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e6))
piece <- function(t, knots) {                 # prep.time_code(method = "piecewise")
  edges <- c(0, knots, Inf)
  sapply(seq_len(length(edges) - 1), function(j) pmin(pmax(t - edges[j], 0), edges[j + 1] - edges[j]))
}
base <- d[d$time == 0, ]
ss <- sum(tapply(base$phq9_total, base$format, function(v) sum((v - mean(v))^2)))
df_sd <- nrow(base) - 2
sd_raw <- sqrt(ss / df_sd)
cases <- list(log = NULL, pw4 = 4, pw3_8 = c(3, 8))
out <- list(duration = D, sd_raw = sd_raw, df_sd = df_sd)
for (name in names(cases)) {
  knots <- cases[[name]]
  if (is.null(knots)) {
    d$log_time <- log1p(d$time)
    terms <- "log_time"
    codes <- log1p(D)
  } else {
    P <- piece(d$time, knots)
    terms <- paste0("time_p", seq_len(ncol(P)))
    for (j in seq_along(terms)) d[[terms[j]]] <- P[, j]
    codes <- drop(piece(D, knots))
  }
  f <- paste("phq9_total ~", paste(terms, collapse = " + "), "+ format +",
             paste0(terms, ":format", collapse = " + "), "+ (1 | therapist_id) + (1 +",
             paste(terms, collapse = " + "), "| client_id)")
  fit <- lmer(as.formula(f), data = d, REML = TRUE, control = ctrl)
  b <- fixef(fit)
  V <- as.matrix(vcov(fit))
  L <- setNames(numeric(length(b)), names(b))
  L[paste0(terms, ":formatindividual")] <- codes
  diff <- sum(L * b)                          # L'b
  diff_se <- sqrt(drop(t(L) %*% V %*% L))     # sqrt(L'VL)
  dd <- diff / sd_raw
  se_fixed <- diff_se / sd_raw
  out[[name]] <- list(
    formula = f,
    codes = unname(codes),
    b = unname(b[paste0(terms, ":formatindividual")]),
    difference = diff,
    difference_se = diff_se,
    d = dd,
    se_fixed = se_fixed,
    se_delta = sqrt(se_fixed^2 + dd^2 / (2 * df_sd))
  )
}
write_json(out, file.path(here, "reference.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
