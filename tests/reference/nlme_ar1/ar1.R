# Residual AR(1) / continuous-time AR(1) within the innermost grouping factor, against
# nlme::lme (issue 14: lmm(..., correlation = "ar1")).
#
# Run from the repository root:
#     Rscript tests/reference/nlme_ar1/ar1.R
# Writes ovary.csv, bodyweight.csv, sleepstudy.csv (exported from nlme / lme4 and READ BACK)
# and tests/reference/nlme_ar1/ar1.json:
#   models[]  per fit: exact R call, method (REML/ML), fixed effects and nlme's tTable
#             (with nlme's DF), vcov, sigma, random-effect (co)variances, phi (original and
#             unconstrained scale), logLik / AIC / BIC, the candidates compared, warnings;
#   lrt[]     anova(fit_indep, fit_corr) for each pair (REML and ML);
#   se_ratio  SE(corr fit) / SE(independent fit) per fixed effect;
#   lme4_check  the independent-residual fits refitted with lmer: nlme's REML / ML logLik
#             equal lme4's -REMLcrit/2 and logLik (same convention).
suppressPackageStartupMessages({
  library(nlme)
  library(lme4)
  library(jsonlite)
})
source("tests/reference/issue14_common.R")
here <- "tests/reference/nlme_ar1"

# ---- data ----------------------------------------------------------------------------
ov <- as.data.frame(nlme::Ovary)[, c("Mare", "Time", "follicles")]
ov$Mare <- as.character(ov$Mare)
bw <- as.data.frame(nlme::BodyWeight)[, c("Rat", "Diet", "Time", "weight")]
bw$Rat <- as.character(bw$Rat); bw$Diet <- as.character(bw$Diet)
ss <- lme4::sleepstudy
ss$Subject <- as.character(ss$Subject)
# Rows keep the packages' order: grouped, and in time order within each group.
write.csv(ov, file.path(here, "ovary.csv"), row.names = FALSE)
write.csv(bw, file.path(here, "bodyweight.csv"), row.names = FALSE)
write.csv(ss, file.path(here, "sleepstudy.csv"), row.names = FALSE)

ovary <- read.csv(file.path(here, "ovary.csv"), stringsAsFactors = FALSE)
ovary$Mare <- factor(ovary$Mare)
# within-Mare occasion index 1, 2, ... in row order (for the equivalent ~ occasion | Mare form)
ovary$occasion <- ave(seq_len(nrow(ovary)), ovary$Mare, FUN = seq_along)
bodyweight <- read.csv(file.path(here, "bodyweight.csv"), stringsAsFactors = FALSE)
bodyweight$Rat <- factor(bodyweight$Rat)
bodyweight$Diet <- factor(bodyweight$Diet)
sleepstudy <- read.csv(file.path(here, "sleepstudy.csv"), stringsAsFactors = FALSE)
sleepstudy$Subject <- factor(sleepstudy$Subject)

within_sorted <- function(d, g, t) all(tapply(d[[t]], d[[g]], function(x) !is.unsorted(x)))
data_meta <- list(
  "ovary.csv" = list(
    source = "nlme::Ovary (as.data.frame; Mare written as its label)",
    nrow = nrow(ovary), columns = vec(c("Mare", "Time", "follicles")),
    "read as" = "read.csv(file, stringsAsFactors = FALSE); Mare <- factor(Mare); occasion <- within-Mare row index",
    "rows in time order within Mare" = within_sorted(ovary, "Mare", "Time"),
    "observations per Mare" = as.list(table(ovary$Mare)),
    note = paste("Time is scaled to the ovulation cycle and is NOT equally spaced across mares;",
                 "corAR1(form = ~ 1 | Mare) uses the row order only.")),
  "bodyweight.csv" = list(
    source = "nlme::BodyWeight (as.data.frame)",
    nrow = nrow(bodyweight), columns = vec(names(bodyweight)),
    "read as" = "read.csv(file, stringsAsFactors = FALSE); factor() on Rat, Diet",
    "rows in time order within Rat" = within_sorted(bodyweight, "Rat", "Time"),
    "distinct Time (days)" = vec(sort(unique(bodyweight$Time))),
    note = "Irregular times: weekly (1, 8, ..., 64) plus day 44."),
  "sleepstudy.csv" = list(
    source = "lme4::sleepstudy",
    nrow = nrow(sleepstudy), columns = vec(names(sleepstudy)),
    "read as" = "read.csv(file, stringsAsFactors = FALSE); Subject <- factor(Subject)",
    "rows in time order within Subject" = within_sorted(sleepstudy, "Subject", "Days"))
)

# ---- fitting -------------------------------------------------------------------------
ctl_nlminb <- lmeControl(maxIter = 1000, msMaxIter = 1000, msMaxEval = 10000, niterEM = 100,
                         tolerance = 1e-12, rel.tol = 1e-12, x.tol = 1e-12, returnObject = TRUE)
ctl_optim <- lmeControl(maxIter = 1000, msMaxIter = 1000, niterEM = 100, tolerance = 1e-12,
                        msTol = 1e-15, opt = "optim", optimMethod = "BFGS", returnObject = TRUE)
ctl_text <- list(
  nlminb = paste("lmeControl(maxIter = 1000, msMaxIter = 1000, msMaxEval = 10000, niterEM = 100,",
                 "tolerance = 1e-12, rel.tol = 1e-12, x.tol = 1e-12, returnObject = TRUE)"),
  optim = paste("lmeControl(maxIter = 1000, msMaxIter = 1000, niterEM = 100, tolerance = 1e-12,",
                "msTol = 1e-15, opt = 'optim', optimMethod = 'BFGS', returnObject = TRUE)"),
  profile = paste("correlation models only: optimize() (tol 1e-9) of the logLik profiled over",
                  "phi, each point an lme fit with corAR1/corCAR1(value = phi, fixed = TRUE) and",
                  "the nlminb control; a check only (phi held fixed there). restart_from_profile:",
                  "the free fit started at the profile's phi (nlminb control)")
)

re_frame <- function(fit) {
  V <- as.matrix(getVarCov(fit))
  nms <- colnames(V)
  grp <- names(fit$groups)[1]
  g <- v1 <- v2 <- character(0); vc <- sdc <- numeric(0)
  for (i in seq_along(nms)) {
    g <- c(g, grp); v1 <- c(v1, nms[i]); v2 <- c(v2, NA); vc <- c(vc, V[i, i]); sdc <- c(sdc, sqrt(V[i, i]))
  }
  if (length(nms) > 1) for (j in 1:(length(nms) - 1)) for (i in (j + 1):length(nms)) {
    g <- c(g, grp); v1 <- c(v1, nms[j]); v2 <- c(v2, nms[i]); vc <- c(vc, V[i, j])
    sdc <- c(sdc, V[i, j] / sqrt(V[i, i] * V[j, j]))
  }
  g <- c(g, "Residual"); v1 <- c(v1, NA); v2 <- c(v2, NA); vc <- c(vc, sigma(fit)^2); sdc <- c(sdc, sigma(fit))
  list(grp = vec(g), var1 = vec(v1), var2 = vec(v2), vcov = vec(vc), sdcor = vec(sdc))
}

lme_info <- function(fit) {
  tt <- summary(fit)$tTable
  ll <- logLik(fit)
  cs <- fit$modelStruct$corStruct
  out <- list(
    method = fit$method,
    "nobs(fit)" = nobs(fit),
    "fit$dims$ngrps" = as.list(fit$dims$ngrps[seq_len(fit$dims$Q)]),
    "fixef(fit)" = named(fixef(fit)),
    "sqrt(diag(vcov(fit)))" = named(sqrt(diag(vcov(fit)))),
    "summary(fit)$tTable" = list(
      term = vec(rownames(tt)), Value = vec(tt[, "Value"]), Std.Error = vec(tt[, "Std.Error"]),
      DF = vec(tt[, "DF"]), "t-value" = vec(tt[, "t-value"]), "p-value" = vec(tt[, "p-value"])
    ),
    "vcov(fit)" = unname(as.matrix(vcov(fit))),
    "sigma(fit)" = sigma(fit),
    "random effects (getVarCov(fit) and sigma(fit)^2, lme4 long layout)" = re_frame(fit),
    "as.numeric(logLik(fit))" = as.numeric(ll),
    "attr(logLik(fit), 'df')" = attr(ll, "df"),
    "AIC(fit)" = AIC(fit),
    "BIC(fit)" = BIC(fit),
    "fit$numIter" = fit$numIter,
    "unname(fitted(fit))[1:5]" = vec(fitted(fit)[1:5]),
    "unname(fitted(fit, level = 0))[1:5]" = vec(fitted(fit, level = 0)[1:5])
  )
  if (!is.null(cs)) {
    out[["class(corStruct)"]] <- class(cs)[1]
    out[["formula(corStruct)"]] <- paste(deparse(formula(cs)), collapse = "")
    out[["coef(fit$modelStruct$corStruct, unconstrained = FALSE)"]] <-
      unname(coef(cs, unconstrained = FALSE))
    out[["coef(fit$modelStruct$corStruct, unconstrained = TRUE)"]] <-
      unname(coef(cs, unconstrained = TRUE))
    iv <- tryCatch(intervals(fit, which = "var-cov")$corStruct, error = function(e) NULL)
    if (!is.null(iv)) {
      out[["intervals(fit, which = 'var-cov')$corStruct"]] <-
        list(lower = iv[1, "lower"], est. = iv[1, "est."], upper = iv[1, "upper"])
    }
  }
  out
}

fit_lme <- function(call_text) {
  default <- tryCatch(timed(eval(parse(text = call_text))), error = function(e) e)
  default_error <- NULL
  cands <- list()
  if (inherits(default, "error")) {
    default_error <- conditionMessage(default)
  } else {
    cands$default <- default
  }
  for (nm in c("nlminb", "optim")) {
    cl <- str2lang(call_text)
    cl$control <- if (nm == "nlminb") ctl_nlminb else ctl_optim
    r <- tryCatch(timed(eval(cl)), error = function(e) NULL)
    if (!is.null(r)) cands[[paste0("tight_", nm)]] <- r
  }
  # Profile over phi as an independent check of the joint optimum.
  if (grepl("correlation = ", call_text)) {
    phi0 <- unname(coef(cands[[length(cands)]]$value$modelStruct$corStruct, unconstrained = FALSE))
    with_phi <- function(phi) {
      txt <- sub("cor(C?AR1)\\(form", sprintf("cor\\1(value = %.17g, fixed = TRUE, form", phi), call_text)
      cl <- str2lang(txt)
      cl$control <- ctl_nlminb
      suppressWarnings(eval(cl))
    }
    pr <- tryCatch(timed({
      o <- optimize(function(phi) as.numeric(logLik(with_phi(phi))),
                    c(max(1e-6, phi0 - 0.05), min(1 - 1e-6, phi0 + 0.05)),
                    maximum = TRUE, tol = 1e-9)
      with_phi(o$maximum)
    }), error = function(e) NULL)
    if (!is.null(pr)) {
      cands$profile <- pr
      # restart the free fit from the profile maximum of phi
      phi_p <- unname(coef(pr$value$modelStruct$corStruct, unconstrained = FALSE))
      txt <- sub("cor(C?AR1)\\(form", sprintf("cor\\1(value = %.17g, form", phi_p), call_text)
      cl <- str2lang(txt)
      cl$control <- ctl_nlminb
      rs <- tryCatch(timed(eval(cl)), error = function(e) NULL)
      if (!is.null(rs)) cands$restart_from_profile <- rs
    }
  }
  ll <- sapply(cands, function(r) as.numeric(logLik(r$value)))
  # the reported fit estimates phi (the profile fit holds it fixed: wrong df / AIC)
  tight <- ll[!(names(ll) %in% c("default", "profile"))]
  best <- if (length(tight)) names(tight)[which.max(tight)] else "default"
  bf <- cands[[best]]$value
  fe <- fixef(bf); se <- sqrt(diag(vcov(bf)))
  list(
    best = bf,
    record = list(
      "best candidate" = best,
      "error of the nlme-default fit" = default_error,
      controls = ctl_text,
      candidates = lapply(names(cands), function(nm) {
        f <- cands[[nm]]$value
        cs <- f$modelStruct$corStruct
        list(
          candidate = nm,
          "as.numeric(logLik(fit))" = ll[[nm]],
          "logLik difference from best" = ll[[nm]] - ll[[best]],
          phi = if (is.null(cs)) NULL else unname(coef(cs, unconstrained = FALSE)),
          "max relative fixef difference from best" = max(abs(fixef(f) - fe) / abs(fe)),
          "max relative SE difference from best" = max(abs(sqrt(diag(vcov(f))) - se) / se),
          warnings = cands[[nm]]$warnings,
          seconds = cands[[nm]]$seconds
        )
      })
    )
  )
}

ov_fixed <- "follicles ~ sin(2*pi*Time) + cos(2*pi*Time)"
bw_fixed <- "weight ~ Time * Diet"
models <- list(
  # Ovary
  list(id = "ovary_indep_REML", call = sprintf("lme(%s, data = ovary, random = ~ 1 | Mare)", ov_fixed)),
  list(id = "ovary_ar1_REML", call = sprintf("lme(%s, data = ovary, random = ~ 1 | Mare, correlation = corAR1(form = ~ 1 | Mare))", ov_fixed)),
  list(id = "ovary_indep_ML", call = sprintf("lme(%s, data = ovary, random = ~ 1 | Mare, method = \"ML\")", ov_fixed)),
  list(id = "ovary_ar1_ML", call = sprintf("lme(%s, data = ovary, random = ~ 1 | Mare, correlation = corAR1(form = ~ 1 | Mare), method = \"ML\")", ov_fixed)),
  list(id = "ovary_ar1_REML_occasion", call = sprintf("lme(%s, data = ovary, random = ~ 1 | Mare, correlation = corAR1(form = ~ occasion | Mare))", ov_fixed)),
  # BodyWeight: irregular times, continuous-time AR(1)
  list(id = "bw_slope_indep_REML", call = sprintf("lme(%s, data = bodyweight, random = ~ Time | Rat)", bw_fixed)),
  list(id = "bw_slope_car1_REML", call = sprintf("lme(%s, data = bodyweight, random = ~ Time | Rat, correlation = corCAR1(form = ~ Time | Rat))", bw_fixed)),
  list(id = "bw_slope_indep_ML", call = sprintf("lme(%s, data = bodyweight, random = ~ Time | Rat, method = \"ML\")", bw_fixed)),
  list(id = "bw_slope_car1_ML", call = sprintf("lme(%s, data = bodyweight, random = ~ Time | Rat, correlation = corCAR1(form = ~ Time | Rat), method = \"ML\")", bw_fixed)),
  list(id = "bw_int_indep_REML", call = sprintf("lme(%s, data = bodyweight, random = ~ 1 | Rat)", bw_fixed)),
  list(id = "bw_int_car1_REML", call = sprintf("lme(%s, data = bodyweight, random = ~ 1 | Rat, correlation = corCAR1(form = ~ Time | Rat))", bw_fixed)),
  list(id = "bw_int_indep_ML", call = sprintf("lme(%s, data = bodyweight, random = ~ 1 | Rat, method = \"ML\")", bw_fixed)),
  list(id = "bw_int_car1_ML", call = sprintf("lme(%s, data = bodyweight, random = ~ 1 | Rat, correlation = corCAR1(form = ~ Time | Rat), method = \"ML\")", bw_fixed)),
  # sleepstudy: random slope + AR(1)
  list(id = "ss_indep_REML", call = "lme(Reaction ~ Days, data = sleepstudy, random = ~ Days | Subject)"),
  list(id = "ss_ar1_REML", call = "lme(Reaction ~ Days, data = sleepstudy, random = ~ Days | Subject, correlation = corAR1(form = ~ 1 | Subject))"),
  list(id = "ss_indep_ML", call = "lme(Reaction ~ Days, data = sleepstudy, random = ~ Days | Subject, method = \"ML\")"),
  list(id = "ss_ar1_ML", call = "lme(Reaction ~ Days, data = sleepstudy, random = ~ Days | Subject, correlation = corAR1(form = ~ 1 | Subject), method = \"ML\")"),
  list(id = "ss_ar1_REML_days", call = "lme(Reaction ~ Days, data = sleepstudy, random = ~ Days | Subject, correlation = corAR1(form = ~ Days | Subject))")
)

entries <- list(); fits <- list()
for (m in models) {
  cat("fitting", m$id, "\n")
  r <- fit_lme(m$call)
  fits[[m$id]] <- r$best
  entries[[m$id]] <- list(
    id = m$id, call = m$call,
    data_file = paste0(sub(".*data = ([a-z]+).*", "\\1", m$call), ".csv"),
    result = lme_info(r$best), fitting = r$record
  )
}

pairs <- list(
  c("ovary_indep_REML", "ovary_ar1_REML"), c("ovary_indep_ML", "ovary_ar1_ML"),
  c("bw_slope_indep_REML", "bw_slope_car1_REML"), c("bw_slope_indep_ML", "bw_slope_car1_ML"),
  c("bw_int_indep_REML", "bw_int_car1_REML"), c("bw_int_indep_ML", "bw_int_car1_ML"),
  c("ss_indep_REML", "ss_ar1_REML"), c("ss_indep_ML", "ss_ar1_ML")
)
lrt <- list(); se_ratio <- list()
for (p in pairs) {
  a <- capture(anova(fits[[p[1]]], fits[[p[2]]]))
  tab <- as.data.frame(a$value)
  lrt[[length(lrt) + 1]] <- list(
    m0 = p[1], m1 = p[2], call = "anova(fit_indep, fit_corr)",
    "anova(fit_indep, fit_corr)" = list(
      model = vec(p), df = vec(tab$df), AIC = vec(tab$AIC), BIC = vec(tab$BIC),
      logLik = vec(tab$logLik), L.Ratio = vec(c(NA, tab$L.Ratio[2])),
      "p-value" = vec(c(NA, tab[["p-value"]][2]))
    ),
    "pchisq(L.Ratio, 1, lower.tail = FALSE)" =
      pchisq(2 * (as.numeric(logLik(fits[[p[2]]])) - as.numeric(logLik(fits[[p[1]]]))), 1, lower.tail = FALSE),
    warnings = a$warnings
  )
  se_ratio[[paste(p[2], "/", p[1])]] <- named(sqrt(diag(vcov(fits[[p[2]]]))) / sqrt(diag(vcov(fits[[p[1]]]))))
}

# The independent-residual fits with lme4: nlme's logLik (REML and ML) is on lme4's scale.
lme4_check <- list()
checks <- list(
  ovary_indep_REML = "lmer(follicles ~ sin(2*pi*Time) + cos(2*pi*Time) + (1 | Mare), data = ovary)",
  ovary_indep_ML = "lmer(follicles ~ sin(2*pi*Time) + cos(2*pi*Time) + (1 | Mare), data = ovary, REML = FALSE)",
  bw_slope_indep_REML = "lmer(weight ~ Time * Diet + (Time | Rat), data = bodyweight)",
  ss_indep_REML = "lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)",
  ss_indep_ML = "lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy, REML = FALSE)"
)
for (id in names(checks)) {
  r <- capture(eval(parse(text = checks[[id]])))
  r2 <- capture(refit_call(r$value, globalenv(), control = lmer_tight()))
  f <- r2$value
  lme4_check[[id]] <- list(
    call = checks[[id]],
    "lme4 logLik" = as.numeric(logLik(f)),
    "nlme logLik" = as.numeric(logLik(fits[[id]])),
    "difference (nlme - lme4)" = as.numeric(logLik(fits[[id]])) - as.numeric(logLik(f)),
    "max relative fixef difference" = max(abs(fixef(f) - fixef(fits[[id]])) / abs(fixef(f))),
    "max relative SE difference" = max(abs(sqrt(diag(as.matrix(vcov(f)))) - sqrt(diag(vcov(fits[[id]])))) /
                                         sqrt(diag(as.matrix(vcov(f))))),
    "sigma lme4 / nlme" = vec(c(sigma(f), sigma(fits[[id]]))),
    warnings = c(r$warnings, r2$warnings)
  )
}

notes <- list(
  "model" = paste(
    "Within each group i the residuals are e_i ~ N(0, sigma^2 R_i) with R_i[j, k] =",
    "phi^|j - k| (corAR1, j and k = positions / integer times) or phi^|t_j - t_k|",
    "(corCAR1, continuous times); the random effects are independent of e. sigma(fit) is",
    "the residual SD (marginal: Var(e_ij) = sigma^2)."),
  "phi scale" = paste(
    "coef(fit$modelStruct$corStruct, unconstrained = FALSE) is phi itself (the correlation",
    "at lag 1, or per unit time for corCAR1). The unconstrained (optimisation) scale is",
    "log((1 + phi) / (1 - phi)) for corAR1 and log(phi / (1 - phi)) for corCAR1."),
  "time order" = paste(
    "corAR1(form = ~ 1 | g) uses the ORDER of the rows within each group (nlme keeps the",
    "data's within-group order; rows here are in time order), whatever the time values.",
    "corAR1(form = ~ t | g) needs integer t and uses |t_j - t_k| (gaps allowed): with",
    "t = 1, 2, ... it equals ~ 1 | g (ovary_ar1_REML_occasion, ss_ar1_REML_days).",
    "corCAR1(form = ~ t | g) takes real t (BodyWeight: days, including day 44)."),
  "grouping" = paste(
    "The correlation group must be the innermost (here the only) grouping factor; the",
    "AR(1) applies within Mare / Rat / Subject, not across groups."),
  "REML" = paste(
    "nlme's REML log-likelihood is on the same scale as lme4's (-REMLcrit/2): see",
    "lme4_check (the differences are optimiser noise). LRTs between REML fits are valid",
    "only with identical fixed effects, as here."),
  "nlme DF" = paste(
    "summary(fit)$tTable DF is nlme's 'within-between' rule, not Satterthwaite: a term",
    "that varies within groups gets N - (number of groups) - (number of within-group",
    "terms); the intercept gets that inner DF too; a term constant within groups",
    "(e.g. Diet in BodyWeight) gets (number of groups) - 1 - (number of between-group terms)."),
  "LRT" = paste(
    "anova(fit_indep, fit_corr): L.Ratio = 2 (logLik1 - logLik0), 1 df, p from chi-square(1);",
    "phi = 0 is interior for AR(1), so no boundary correction."),
  "convergence" = paste(
    "Each model was fitted with nlme's defaults, with two tight controls (nlminb and",
    "optim BFGS) and, for correlation models, by maximising the logLik profiled over phi;",
    "the free-phi candidate with the highest logLik (not the nlme default, not the",
    "profile) is reported; fitting$candidates shows the spread, and 'logLik difference",
    "from best' > 0 for the profile shows how far the reported fit is from the true",
    "maximum. With rel.tol = 1e-12 nlminb often ends with",
    "'singular convergence (7)': it could not improve further; the logLik equals the",
    "default fit's to ~1e-12, so this is not a failure.")
)

out <- list(
  versions = versions_info(),
  script = "tests/reference/nlme_ar1/ar1.R",
  notes = notes,
  data = data_meta,
  models = unname(entries),
  lrt = lrt,
  se_ratio = se_ratio,
  lme4_check = lme4_check
)
write_ref(out, file.path(here, "ar1.json"))

for (e in entries) {
  r <- e$result
  cat(sprintf("%-24s %s ll=%.8f phi=%s best=%s\n", e$id, r$method, r[["as.numeric(logLik(fit))"]],
              format(r[["coef(fit$modelStruct$corStruct, unconstrained = FALSE)"]], digits = 8),
              e$fitting[["best candidate"]]))
  for (c in e$fitting$candidates) {
    cat(sprintf("     %-14s dll=%.2e dfe=%.1e dse=%.1e warn=%d\n", c$candidate, c[["logLik difference from best"]],
                c[["max relative fixef difference from best"]], c[["max relative SE difference from best"]],
                length(c$warnings)))
  }
}
for (l in lrt) cat(l$m0, "vs", l$m1, "LR", l[["anova(fit_indep, fit_corr)"]]$L.Ratio[2], "p", l[["anova(fit_indep, fit_corr)"]][["p-value"]][2], "\n")
print(se_ratio)
str(lme4_check)
